// Substitution variables through the real hub: tenant vars and assignment substitute stored and
// returned, merged per cluster into the desired set on the bus (cluster_name, cluster_label_*,
// the tenant's, the assignment's), re-projected when a label alone changes, and hostile names or
// values refused with the field named and nothing stored — against a real nats-server and git.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { status } from '@grpc/grpc-js';
import { startGit, startNats, type GitEnv, type GitRepo, type NatsEnv } from '../../env/index.js';
import {
  busProbe,
  eventually,
  grpcError,
  startTestHub,
  tempDir,
  type BusProbe,
  type TestHub,
} from './harness.js';

describe('substitution variables', () => {
  let nats: NatsEnv | undefined;
  let git: GitEnv | undefined;
  let bus: BusProbe | undefined;
  let t: TestHub | undefined;
  let repo: GitRepo;
  const tmp = tempDir('gitfleet-hub-subst-');

  beforeAll(async () => {
    nats = await startNats();
    git = await startGit();
    repo = await git.createRepo('app', { 'deploy/cm.yaml': 'kind: ConfigMap\n' });
    t = await startTestHub({ natsUrl: nats.url, db: `${tmp.dir}/hub.db` });
    bus = await busProbe(nats.url);
    const { tenants, repos, clusters } = t.client;
    await tenants.createTenant({
      tenant: { name: 'team-a', namespaces: ['team-a'], vars: { region: 'tenant-default', owner: 'team-a' } },
    });
    await repos.createRepo({ repo: { tenant: 'team-a', name: 'app', url: repo.url } });
    await clusters.createCluster({
      cluster: { name: 'edge-1', labels: { env: 'prod', 'topology.kubernetes.io/region': 'eu-west-1' } },
    });
  });

  afterAll(async () => {
    await bus?.close();
    await t?.stop();
    await git?.stop();
    await nats?.destroy();
    tmp.remove();
  });

  /** edge-1's published substitution of team-a/web once `check` holds. */
  const substitution = (check: (vars: Record<string, string>) => boolean) =>
    eventually(async () => {
      const d = await bus!.desired('edge-1');
      const s = d?.set.assignments.find((a) => a.name === 'web')?.substitute;
      return s && check(s.vars) ? s : undefined;
    });

  it('stores the assignment substitution and publishes the merged variables to the cluster', async () => {
    const created = await t!.client.assignments.createAssignment({
      assignment: {
        tenant: 'team-a',
        name: 'web',
        repo: 'app',
        path: 'deploy',
        selector: { env: 'prod' },
        substitute: { enabled: true, vars: { region: 'assignment-wins', image_tag: 'v1.2.3' }, strict: true },
      },
    });
    expect(created.substitute).toEqual({
      enabled: true,
      vars: { image_tag: 'v1.2.3', region: 'assignment-wins' },
      strict: true,
    });
    expect((await t!.client.tenants.getTenant({ name: 'team-a' })).vars).toEqual({
      owner: 'team-a',
      region: 'tenant-default',
    });
    const s = await substitution(() => true);
    expect(s).toEqual({
      enabled: true,
      strict: true,
      vars: {
        cluster_label_env: 'prod',
        cluster_label_topology_kubernetes_io_region: 'eu-west-1',
        cluster_name: 'edge-1',
        image_tag: 'v1.2.3',
        owner: 'team-a',
        region: 'assignment-wins',
      },
    });
  });

  it('re-projects when a cluster label alone changes, and when the tenant variables change', async () => {
    const { clusters, tenants } = t!.client;
    const before = (await clusters.getCluster({ name: 'edge-1' })).desiredGeneration;
    await clusters.updateCluster({
      cluster: {
        name: 'edge-1',
        labels: { env: 'prod', 'topology.kubernetes.io/region': 'us-east-2', tier: 'gold' },
      },
    });
    const relabeled = await substitution(
      (v) => v.cluster_label_topology_kubernetes_io_region === 'us-east-2',
    );
    expect(relabeled.vars.cluster_label_tier).toBe('gold');
    expect((await clusters.getCluster({ name: 'edge-1' })).desiredGeneration).toBeGreaterThan(before);

    await tenants.updateTenant({
      tenant: { name: 'team-a', namespaces: ['team-a'], vars: { owner: 'platform' } },
    });
    const retenanted = await substitution((v) => v.owner === 'platform');
    expect(retenanted.vars.region).toBe('assignment-wins');
  });

  it('turning substitution off publishes no substitute at all', async () => {
    const web = await t!.client.assignments.getAssignment({ tenant: 'team-a', name: 'web' });
    await t!.client.assignments.updateAssignment({ assignment: { ...web, substitute: undefined } });
    await eventually(async () => {
      const d = await bus!.desired('edge-1');
      const a = d?.set.assignments.find((x) => x.name === 'web');
      return a && a.substitute === undefined ? a : undefined;
    });
    expect(
      (await t!.client.assignments.getAssignment({ tenant: 'team-a', name: 'web' })).substitute,
    ).toBeUndefined();
  });

  it.each([
    [
      'a shell expression as a name',
      { '$(id)': 'x' },
      'assignment.substitute.vars["$(id)"]: "$(id)" is not a variable name',
    ],
    ['a NUL in a value', { a: 'x\u0000y' }, 'assignment.substitute.vars["a"]: the value contains NUL'],
    [
      'a 1 MB value',
      { a: 'v'.repeat(1_000_000) },
      'assignment.substitute.vars["a"]: the value has 1000000 bytes (at most 4096)',
    ],
    [
      '101 variables',
      Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`v${i}`, 'x'])),
      'assignment.substitute.vars: 101 variables (at most 100)',
    ],
  ])('refuses %s, storing nothing', async (_what, vars, message) => {
    const err = await grpcError(
      t!.client.assignments.createAssignment({
        assignment: {
          tenant: 'team-a',
          name: 'hostile',
          repo: 'app',
          path: 'deploy',
          clusters: ['edge-1'],
          substitute: { enabled: true, vars, strict: false },
        },
      }),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toContain(message);
    expect(err.details.length).toBeLessThan(400);
    await expect(
      t!.client.assignments.getAssignment({ tenant: 'team-a', name: 'hostile' }),
    ).rejects.toThrow();
  });

  it('refuses hostile tenant variables, keeping the stored ones', async () => {
    const err = await grpcError(
      t!.client.tenants.updateTenant({
        tenant: { name: 'team-a', namespaces: ['team-a'], vars: { 'a.b': 'x' } },
      }),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toContain('tenant.vars["a.b"]: "a.b" is not a variable name');
    expect((await t!.client.tenants.getTenant({ name: 'team-a' })).vars).toEqual({ owner: 'platform' });
  });
});
