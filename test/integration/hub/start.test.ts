// startHub's contract: fail fast on bad configuration, serve without NATS, close idempotently.
import { afterAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { freePort } from '../../env/index.js';
import { ConfigError, startHub } from '../../../hub/main.js';
import { startTestHub, tempDir } from './harness.js';

// real servers: `testTimeout` in a jest project config is not honoured, so set it here

describe('startHub', () => {
  const tmp = tempDir('gitfleet-hub-start-');
  afterAll(() => tmp.remove());

  it('rejects a bad configuration before starting anything', async () => {
    const base = { listen: '127.0.0.1:0', natsUrl: 'nats://127.0.0.1:4222', db: ':memory:' };
    await expect(startHub({ ...base, listen: 'nowhere' })).rejects.toThrow(ConfigError);
    await expect(startHub({ ...base, natsUrl: 'http://x' })).rejects.toThrow('invalid hub config: natsUrl:');
    await expect(startHub({ ...base, db: '/no/such/dir/hub.db' })).rejects.toThrow('invalid hub config: db:');
  });

  it('says PostgreSQL is not supported yet', async () => {
    await expect(
      startHub({
        listen: '127.0.0.1:0',
        natsUrl: 'nats://127.0.0.1:4222',
        db: 'postgres://hub@127.0.0.1/gitfleet',
      }),
    ).rejects.toThrow('PostgreSQL is not supported yet');
  });

  it('fails when the port is taken', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      await expect(
        startHub({
          listen: `127.0.0.1:${port}`,
          natsUrl: 'nats://127.0.0.1:4222',
          db: ':memory:',
          logLevel: 'silent',
        }),
      ).rejects.toThrow(`gitfleet hub cannot start on 127.0.0.1:${port}: `);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('serves the API while NATS is unreachable, and closes promptly and idempotently', async () => {
    const deadPort = await freePort();
    const t = await startTestHub({
      natsUrl: `nats://127.0.0.1:${deadPort}`,
      db: `${tmp.dir}/offline.db`,
      logLevel: 'silent',
    });
    try {
      expect(t.hub.address).toMatch(/^127\.0\.0\.1:\d+$/);
      await t.client.tenants.createTenant({ tenant: { name: 'team-a', namespaces: ['team-a'] } });
      const c = await t.client.clusters.createCluster({ cluster: { name: 'c1' } });
      expect(c.desiredGeneration).toBe(1); // computed and stored; published once NATS is there
    } finally {
      const started = Date.now();
      await Promise.all([t.hub.close(), t.hub.close()]);
      await t.hub.close();
      expect(Date.now() - started).toBeLessThan(10_000);
      t.client.close();
    }
  });
});
