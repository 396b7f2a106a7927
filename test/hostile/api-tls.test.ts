// The hub's API transport under attack: TLS on request, plaintext only where no one else can
// reach it, and clients that do not trust the hub's certificate get nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { createHubClient } from '../../cli/client/hub-client.js';
import { ConfigError, startHub, type RunningHub } from '../../hub/main.js';
import { freePort, makeTlsFiles, type TlsFiles } from '../env/index.js';
import { tempDir, testAdminToken } from '../integration/hub/harness.js';

const cli = join(process.cwd(), 'dist', 'cli', 'main.js');
const run = promisify(execFile);

describe('hub API transport', () => {
  const tmp = tempDir('gitfleet-hostile-tls-');
  let tls: TlsFiles;
  let other: TlsFiles;
  let hub: RunningHub;
  let natsUrl: string;
  const adminToken = testAdminToken();

  beforeAll(async () => {
    tls = makeTlsFiles(tmp.dir, 'gitfleet-hub', ['IP:127.0.0.1', 'DNS:localhost']);
    other = makeTlsFiles(tmp.dir, 'someone-else', ['IP:127.0.0.1'], 'other-');
    // no NATS needed: the API serves without it
    natsUrl = `nats://127.0.0.1:${await freePort()}`;
    hub = await startHub({
      listen: '127.0.0.1:0',
      natsUrl,
      db: ':memory:',
      logLevel: 'silent',
      tlsCertFile: tls.serverCrt,
      tlsKeyFile: tls.serverKey,
      adminToken,
    });
  });

  afterAll(async () => {
    await hub?.close();
    tmp.remove();
  });

  it('serves TLS to a client that trusts its CA', async () => {
    const client = createHubClient(hub.address, { tls: readFileSync(tls.caCrt), token: adminToken });
    try {
      await client.tenants.createTenant({ tenant: { name: 'team-a', namespaces: ['team-a'] } });
      expect((await client.tenants.listTenants({})).tenants.map((t) => t.name)).toEqual(['team-a']);
    } finally {
      client.close();
    }
  });

  it.each([
    ['a plaintext client', undefined],
    ['a client trusting another CA', 'other' as const],
  ])('gives %s nothing', async (_what, which) => {
    const client = createHubClient(hub.address, {
      deadlineMs: 5_000,
      token: adminToken,
      tls: which ? readFileSync(other.caCrt) : undefined,
    });
    try {
      const err = (await client.tenants.listTenants({}).catch((e: unknown) => e)) as ServiceError;
      expect(err.code).toBe(GrpcStatus.UNAVAILABLE);
      expect(JSON.stringify(err)).not.toContain('team-a');
    } finally {
      client.close();
    }
  });

  it('refuses plaintext on an address other hosts can reach, unless told a proxy terminates TLS', async () => {
    const base = { natsUrl, db: ':memory:', logLevel: 'silent' };
    await expect(startHub({ ...base, listen: '0.0.0.0:0' })).rejects.toThrow(ConfigError);
    await expect(startHub({ ...base, listen: '0.0.0.0:0' })).rejects.toThrow(
      'invalid hub config: listen: serving the API in plaintext on 0.0.0.0',
    );
    const insecure = await startHub({ ...base, listen: '0.0.0.0:0', insecure: true });
    await insecure.close();
    const withTls = await startHub({
      ...base,
      listen: '0.0.0.0:0',
      tlsCertFile: tls.serverCrt,
      tlsKeyFile: tls.serverKey,
    });
    await withTls.close();
  });

  it.each([
    [{ tlsCertFile: 'CERT' }, 'tlsKeyFile: TLS needs both a certificate and its key'],
    [
      { tlsCertFile: 'CERT', tlsKeyFile: '/no/such/key.pem' },
      'tlsKeyFile: cannot read /no/such/key.pem: ENOENT',
    ],
    [{ tlsCertFile: 'KEY', tlsKeyFile: 'KEY' }, 'tlsCertFile: '],
    [{ tlsCertFile: 'CERT', tlsKeyFile: 'CERT' }, 'tlsKeyFile: '],
  ])(
    'refuses a broken TLS configuration %j at start, without echoing key material',
    async (files, message) => {
      const real = (f?: string) => (f === 'CERT' ? tls.serverCrt : f === 'KEY' ? tls.serverKey : f);
      const err = (await startHub({
        listen: '127.0.0.1:0',
        natsUrl,
        db: ':memory:',
        logLevel: 'silent',
        tlsCertFile: real(files.tlsCertFile),
        tlsKeyFile: real((files as { tlsKeyFile?: string }).tlsKeyFile),
      }).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toContain(message);
      expect(err.message).not.toContain('PRIVATE KEY-----\n');
    },
  );

  it('the CLI reaches a TLS hub with --ca, and without it says how', async () => {
    const ok = await run('node', [
      cli,
      '--hub',
      hub.address,
      '--token',
      adminToken,
      '--ca',
      tls.caCrt,
      'tenant',
      'list',
      '-o',
      'json',
    ]);
    expect(JSON.parse(ok.stdout).tenants.map((t: { name: string }) => t.name)).toContain('team-a');
    const bad = (await run('node', [cli, '--hub', hub.address, 'tenant', 'list']).catch(
      (e: unknown) => e,
    )) as {
      code: number;
      stderr: string;
    };
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`cannot reach the hub at ${hub.address}`);
    expect(bad.stderr).toContain('pass --ca FILE (or GITFLEET_CA)');
    const garbage = join(tmp.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate');
    const wrong = (await run('node', [cli, '--hub', hub.address, '--ca', garbage, 'tenant', 'list']).catch(
      (e: unknown) => e,
    )) as { code: number; stderr: string };
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });
});
