// One change that affects many clusters is published to the real bus with bounded concurrency.
// GITFLEET_SCALE_CLUSTERS sets the fleet size (default 2,000; measured with 10,000 too).
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { startGit, startNats, type GitEnv, type NatsEnv } from '../../env/index.js';
import { busProbe, eventually, startTestHub, tempDir, type BusProbe, type TestHub } from './harness.js';
import { mapLimit } from '../../../lib/limit.js';

// real servers: `testTimeout` in a jest project config is not honoured, so set it here
jest.setTimeout(300_000);

const N = Number(process.env.GITFLEET_SCALE_CLUSTERS ?? 2000);

describe(`a fleet of ${N} clusters`, () => {
  let nats: NatsEnv | undefined;
  let git: GitEnv | undefined;
  let bus: BusProbe | undefined;
  let t: TestHub | undefined;
  const tmp = tempDir('gitfleet-hub-scale-');
  const names = Array.from({ length: N }, (_, i) => `c-${String(i).padStart(5, '0')}`);

  beforeAll(async () => {
    nats = await startNats();
    git = await startGit();
    const repo = await git.createRepo('app', { 'deploy/cm.yaml': 'kind: ConfigMap\n' });
    t = await startTestHub({ natsUrl: nats.url, db: `${tmp.dir}/hub.db` });
    bus = await busProbe(nats.url);
    const { tenants, repos, clusters } = t.client;
    await tenants.createTenant({ tenant: { name: 'team-a', namespaces: ['team-a'] } });
    await repos.createRepo({ repo: { tenant: 'team-a', name: 'app', url: repo.url } });
    await mapLimit(names, 16, (name) =>
      clusters.createCluster({ cluster: { name, labels: { fleet: 'edge' } } }),
    );
  });

  afterAll(async () => {
    await bus?.close();
    await t?.stop();
    await git?.stop();
    await nats?.destroy();
    tmp.remove();
  });

  it('publishes one selector assignment to every cluster', async () => {
    // every cluster's first (empty) set is on the bus
    const start = await eventually(async () => {
      const seq = await bus!.desiredLastSeq();
      return seq >= N ? seq : undefined;
    });
    await t!.client.assignments.createAssignment({
      assignment: { tenant: 'team-a', name: 'web', repo: 'app', path: 'deploy', selector: { fleet: 'edge' } },
    });
    await eventually(async () => (await bus!.desiredLastSeq()) >= start + N, {
      timeoutMs: 120_000,
      intervalMs: 50,
    });
    for (const name of [names[0], names[Math.floor(N / 2)], names[N - 1]]) {
      const d = await bus!.desired(name);
      expect(d?.set.generation).toBe(2);
      expect(d?.set.assignments.map((a) => a.name)).toEqual(['web']);
    }
    // exactly one write per cluster: nothing published twice
    expect(await bus!.desiredLastSeq()).toBe(start + N);
  });
});
