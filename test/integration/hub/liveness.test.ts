// Cluster liveness on the real hub and nats-server: a cluster is Unknown until its agent's first
// heartbeat, Online while they come, Offline in `cluster list/get` and in status once they stop
// for --cluster-offline-after (3 s here), and Online again with the heartbeat that returns; the
// built CLI's `cluster list` shows the state.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile as execFileCb } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Heartbeat, heartbeatSubject } from '../../../proto/index.js';
import { startNats, type NatsEnv } from '../../env/index.js';
import { busProbe, eventually, startTestHub, tempDir, type BusProbe, type TestHub } from './harness.js';

const execFile = promisify(execFileCb);
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dist', 'cli', 'main.js');

describe('cluster liveness', () => {
  let nats: NatsEnv | undefined;
  let bus: BusProbe | undefined;
  let t: TestHub | undefined;
  const tmp = tempDir('gitfleet-hub-liveness-');

  beforeAll(async () => {
    nats = await startNats();
    t = await startTestHub({ natsUrl: nats.url, db: `${tmp.dir}/hub.db`, clusterOfflineAfterSeconds: 3 });
    bus = await busProbe(nats.url);
    await t.client.clusters.createCluster({ cluster: { name: 'edge-1', labels: {} } });
  });

  afterAll(async () => {
    await bus?.close();
    await t?.stop();
    await nats?.destroy();
    tmp.remove();
  });

  const beat = (sentAtMs = Date.now()) =>
    bus!.js.publish(
      heartbeatSubject('edge-1'),
      Heartbeat.encode(Heartbeat.fromPartial({ cluster: 'edge-1', agentVersion: 'test', sentAtMs })).finish(),
    );
  const state = async () => (await t!.client.clusters.getCluster({ name: 'edge-1' })).state;

  it('is Unknown before the first heartbeat, Online with it, Offline when they stop, Online again', async () => {
    expect(await state()).toBe('Unknown');
    // a fresh heartbeat each try: on a busy machine one read may come after the limit
    await eventually(async () => (await beat(), (await state()) === 'Online'));
    // no heartbeat for longer than the limit
    await eventually(async () => (await state()) === 'Offline', { timeoutMs: 15_000 });
    const listed = await t!.client.clusters.listClusters({ selector: {} });
    expect(listed.clusters.map((c) => [c.name, c.state])).toEqual([['edge-1', 'Offline']]);
    const status = await t!.client.status.getStatus({ tenant: '', cluster: 'edge-1', assignment: '' });
    expect(status.clusters.map((c) => c.state)).toEqual(['Offline']);

    if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first (npm test does)`);
    const { stdout } = await execFile(process.execPath, [cli, 'cluster', 'list'], {
      env: { ...process.env, GITFLEET_HUB: t!.hub.address, GITFLEET_TOKEN: t!.token },
    });
    expect(stdout).toMatch(
      /^NAME\s+LABELS\s+AGENT\s+STATE\s.*HEARTBEAT.*\nedge-1\s+<none>\s+test\s+Offline\s/,
    );

    await eventually(async () => (await beat(), (await state()) === 'Online'));
  });

  it('refuses a --cluster-offline-after that is not a positive duration, naming the flag', async () => {
    const run = async (value: string) => {
      try {
        await execFile(
          process.execPath,
          [
            cli,
            'hub',
            '--listen',
            '127.0.0.1:0',
            '--nats',
            nats!.url,
            '--db',
            ':memory:',
            '--cluster-offline-after',
            value,
          ],
          { timeout: 30_000 },
        );
        return { code: 0, stderr: '' };
      } catch (err) {
        const e = err as { code: number; stderr: string };
        return { code: e.code, stderr: e.stderr };
      }
    };
    expect(await run('soon')).toEqual({
      code: 1,
      stderr: 'gitfleet: --cluster-offline-after: invalid duration "soon": use e.g. 30s, 5m, 1h30m\n',
    });
    const zero = await run('0');
    expect(zero.code).toBe(1);
    expect(zero.stderr).toContain('clusterOfflineAfterSeconds: must be a positive number of seconds, got 0');
  });
});
