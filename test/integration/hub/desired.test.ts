// Desired sets on the bus: content, generations, selection, idempotence, and survival of hub
// restarts and NATS outages — against a real nats-server and git server.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGit, startNats, type GitEnv, type GitRepo, type NatsEnv } from '../../env/index.js';
import { busProbe, eventually, startTestHub, tempDir, type BusProbe, type TestHub } from './harness.js';
import { GitCredentials } from '../../../proto/index.js';

// real servers: `testTimeout` in a jest project config is not honoured, so set it here
describe('desired sets', () => {
  let nats: NatsEnv | undefined;
  let git: GitEnv | undefined;
  let bus: BusProbe | undefined;
  let t: TestHub | undefined;
  let repo: GitRepo;
  const tmp = tempDir('gitfleet-hub-desired-');
  const db = `${tmp.dir}/hub.db`;

  beforeAll(async () => {
    nats = await startNats();
    git = await startGit();
    repo = await git.createRepo('app', { 'deploy/cm.yaml': 'kind: ConfigMap\n' });
    t = await startTestHub({ natsUrl: nats.url, db });
    bus = await busProbe(nats.url);
    const { tenants, repos } = t.client;
    await tenants.createTenant({ tenant: { name: 'team-a', namespaces: ['team-a', 'team-a-extra'] } });
    await tenants.createTenant({
      tenant: {
        name: 'team-b',
        namespaces: ['team-b'],
        clusterRole: 'edit',
        allowedClusterKinds: ['PriorityClass'],
      },
    });
    await repos.createRepo({ repo: { tenant: 'team-a', name: 'app', url: repo.url } });
    await repos.createRepo({
      repo: {
        tenant: 'team-b',
        name: 'app',
        url: repo.url,
        credentials: { username: 'bot', password: 'pw-b' },
      },
    });
  });

  afterAll(async () => {
    await bus?.close();
    await t?.stop();
    await git?.stop();
    await nats?.destroy();
    tmp.remove();
  });

  const desired = (cluster: string) => bus!.desired(cluster);

  it('publishes a cluster its (empty) desired set on registration', async () => {
    await t!.client.clusters.createCluster({
      cluster: { name: 'edge-1', labels: { env: 'prod', tier: 'edge' } },
    });
    const got = await eventually(() => desired('edge-1'));
    expect(got.set).toMatchObject({ cluster: 'edge-1', generation: 1, tenants: [], assignments: [] });
    expect(got.set.publishedAtMs).toBeGreaterThan(0);
  });

  it('publishes the assignments that select a cluster, pinned to the revision, with the tenant identity', async () => {
    const head = await repo.head();
    await t!.client.assignments.createAssignment({
      assignment: {
        tenant: 'team-a',
        name: 'web',
        repo: 'app',
        path: 'deploy',
        clusters: ['edge-1'],
        prune: true,
      },
    });
    const got = await eventually(async () => {
      const d = await desired('edge-1');
      return d && d.set.generation === 2 ? d : undefined;
    });
    expect(got.set.tenants).toEqual([
      {
        name: 'team-a',
        namespaces: ['team-a', 'team-a-extra'],
        serviceAccount: 'gitfleet-reconciler',
        clusterRole: 'admin',
        allowedClusterKinds: [],
      },
    ]);
    expect(got.set.assignments).toEqual([
      {
        tenant: 'team-a',
        name: 'web',
        repo: 'app',
        source: {
          type: 'git',
          url: repo.url,
          revision: `main@sha1:${head}`,
          commit: head,
          credentials: undefined,
          digest: '',
        },
        path: 'deploy',
        targetNamespace: 'team-a',
        prune: true,
        suspend: false,
        renderer: 'auto',
        decryptionSecret: '',
        dependsOn: [],
        retryIntervalSeconds: 0,
        force: false,
      },
    ]);
    expect((await t!.client.clusters.getCluster({ name: 'edge-1' })).desiredGeneration).toBe(2);
  });

  it('does not republish when nothing changed', async () => {
    const before = await desired('edge-1');
    const seq = await bus!.desiredLastSeq();
    const { assignments, repos, tenants, clusters } = t!.client;
    const web = await assignments.getAssignment({ tenant: 'team-a', name: 'web' });
    await assignments.updateAssignment({ assignment: web }); // same spec
    await repos.resolveRepo({ tenant: 'team-a', name: 'app' }); // same commit
    await tenants.createTenant({ tenant: { name: 'idle', namespaces: ['idle'] } });
    // a marker write after the no-ops: once it is on the bus, anything they queued is too
    await clusters.createCluster({ cluster: { name: 'marker', labels: {} } });
    await eventually(() => desired('marker'));
    expect(await bus!.desiredLastSeq()).toBe(seq + 1);
    expect(await desired('edge-1')).toEqual(before);
  });

  it('reaches every cluster a selector matches, now and when registered later', async () => {
    const { clusters, assignments } = t!.client;
    for (const name of ['prod-1', 'prod-2', 'prod-3', 'dev-1']) {
      await clusters.createCluster({
        cluster: { name, labels: { env: name.startsWith('prod') ? 'prod' : 'dev' } },
      });
    }
    await assignments.createAssignment({
      assignment: {
        tenant: 'team-b',
        name: 'mon',
        repo: 'app',
        path: 'deploy',
        selector: { env: 'prod' },
        suspend: true,
      },
    });
    const selected = async (name: string) => {
      const d = await desired(name);
      return d?.set.assignments.some((a) => a.tenant === 'team-b' && a.name === 'mon') ? d : undefined;
    };
    for (const name of ['prod-1', 'prod-2', 'prod-3', 'edge-1']) {
      const d = await eventually(() => selected(name));
      const mon = d.set.assignments.find((a) => a.name === 'mon')!;
      expect(mon.suspend).toBe(true);
      expect(mon.source!.credentials).toEqual(
        GitCredentials.fromPartial({ username: 'bot', password: 'pw-b' }),
      );
      expect(d.set.tenants.find((x) => x.name === 'team-b')).toMatchObject({
        serviceAccount: 'gitfleet-reconciler',
        clusterRole: 'edit',
        allowedClusterKinds: ['PriorityClass'],
      });
    }
    expect((await desired('dev-1'))!.set.assignments).toEqual([]);
    await clusters.createCluster({ cluster: { name: 'prod-4', labels: { env: 'prod' } } });
    expect((await eventually(() => selected('prod-4'))).set.generation).toBe(1);
  });

  it('moves every selected cluster to a new commit, each with a higher generation', async () => {
    const before = await Promise.all(
      ['prod-1', 'prod-2', 'edge-1'].map(async (c) => (await desired(c))!.set.generation),
    );
    const next = await repo.commit({ 'deploy/cm.yaml': 'kind: ConfigMap\nmetadata: {name: x}\n' });
    await t!.client.repos.resolveRepo({ tenant: 'team-b', name: 'app' });
    for (const [i, name] of ['prod-1', 'prod-2', 'edge-1'].entries()) {
      const d = await eventually(async () => {
        const got = await desired(name);
        return got?.set.assignments.find((a) => a.name === 'mon')?.source?.commit === next ? got : undefined;
      });
      expect(d.set.generation).toBe(before[i] + 1);
    }
  });

  it('deletes the key of a deleted cluster and empties sets when assignments go', async () => {
    const { clusters, assignments } = t!.client;
    await clusters.deleteCluster({ name: 'marker' });
    await eventually(async () => (await desired('marker')) === undefined);
    await assignments.deleteAssignment({ tenant: 'team-b', name: 'mon' });
    const d = await eventually(async () => {
      const got = await desired('prod-4');
      return got && got.set.assignments.length === 0 ? got : undefined;
    });
    expect(d.set.tenants).toEqual([]);
    expect(d.set.generation).toBe(3); // registered with mon, new commit, mon deleted
    // every cluster that ran mon has its new set (the next test counts the messages after this)
    for (const { name } of (await clusters.listClusters({})).clusters) {
      await eventually(async () => !(await desired(name))?.set.assignments.some((a) => a.name === 'mon'));
    }
  });

  it('keeps data and desired sets across a hub restart (same SQLite file) without republishing', async () => {
    const names = ['edge-1', 'prod-1', 'prod-4', 'dev-1'];
    const before = await Promise.all(names.map(desired));
    const seq = await bus!.desiredLastSeq();
    await t!.stop();
    t = await startTestHub({ natsUrl: nats!.url, db });
    const { tenants, clusters, assignments, repos } = t.client;
    expect((await tenants.listTenants({})).tenants.map((x) => x.name)).toEqual(['idle', 'team-a', 'team-b']);
    expect((await assignments.listAssignments({})).assignments.map((a) => a.name)).toEqual(['web']);
    expect((await repos.getRepo({ tenant: 'team-b', name: 'app' })).hasCredentials).toBe(true);
    const edge = await clusters.getCluster({ name: 'edge-1' });
    expect(edge.desiredGeneration).toBe(before[0]!.set.generation);
    await clusters.createCluster({ cluster: { name: 'marker-2', labels: {} } });
    await eventually(() => desired('marker-2'));
    expect(await bus!.desiredLastSeq()).toBe(seq + 1);
    expect(await Promise.all(names.map(desired))).toEqual(before);
  });

  it('publishes changes made while NATS is down once it is back', async () => {
    const before = (await desired('edge-1'))!.set.generation;
    await nats!.kill();
    const web = await t!.client.assignments.getAssignment({ tenant: 'team-a', name: 'web' });
    // the API works without the bus; the store is the source of truth
    await t!.client.assignments.updateAssignment({ assignment: { ...web, targetNamespace: 'team-a-extra' } });
    await t!.client.clusters.createCluster({ cluster: { name: 'offline-born', labels: {} } });
    await nats!.restart();
    const d = await eventually(
      async () => {
        const got = await desired('edge-1');
        return got?.set.assignments[0]?.targetNamespace === 'team-a-extra' ? got : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(d.set.generation).toBeGreaterThan(before);
    expect(d.set.assignments[0].targetNamespace).toBe('team-a-extra');
    await eventually(() => desired('offline-born'), { timeoutMs: 60_000 });
  });
});
