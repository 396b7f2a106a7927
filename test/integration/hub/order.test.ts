// depends_on and retry_interval_seconds through the hub's real gRPC API, store and bus: unknown
// names, cycles (at create and update), another tenant's names and deleting a dependency are
// refused with the message a user sees, nothing of a refused request is stored or published, and
// what is accepted reaches the cluster's desired set.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { status as Code } from '@grpc/grpc-js';
import { startGit, startNats, type GitEnv, type NatsEnv } from '../../env/index.js';
import {
  busProbe,
  eventually,
  grpcError,
  startTestHub,
  tempDir,
  type BusProbe,
  type TestHub,
} from './harness.js';

describe('hub: assignment order and retries', () => {
  let nats: NatsEnv | undefined;
  let git: GitEnv | undefined;
  let t: TestHub | undefined;
  let bus: BusProbe | undefined;
  const tmp = tempDir('gitfleet-hub-order-');

  const spec = (name: string, fields: Record<string, unknown> = {}, tenant = 'team-a') => ({
    assignment: { tenant, name, repo: 'app', path: 'deploy', clusters: ['c1'], ...fields },
  });

  beforeAll(async () => {
    nats = await startNats();
    git = await startGit();
    const repo = await git.createRepo('app', { 'deploy/cm.yaml': 'kind: ConfigMap\n' });
    t = await startTestHub({ natsUrl: nats.url, db: `${tmp.dir}/hub.db` });
    bus = await busProbe(nats.url);
    const { tenants, repos, clusters } = t.client;
    for (const name of ['team-a', 'team-b']) {
      await tenants.createTenant({ tenant: { name, namespaces: [name] } });
      await repos.createRepo({ repo: { tenant: name, name: 'app', url: repo.url, branch: 'main' } });
    }
    await clusters.createCluster({ cluster: { name: 'c1' } });
    const { assignments } = t.client;
    await assignments.createAssignment(spec('db'));
    await assignments.createAssignment(spec('cache', { dependsOn: ['db'] }));
    await assignments.createAssignment(spec('web', { dependsOn: ['cache', 'db'], retryIntervalSeconds: 30 }));
    await assignments.createAssignment(spec('queue', {}, 'team-b'));
  }, 120_000);

  afterAll(async () => {
    await bus?.close();
    await t?.stop();
    await git?.stop();
    await nats?.destroy();
    tmp.remove();
  });

  it('stores dependencies and the retry interval, and publishes them in the desired set', async () => {
    const stored = await t!.client.assignments.getAssignment({ tenant: 'team-a', name: 'web' });
    expect(stored).toMatchObject({ dependsOn: ['cache', 'db'], retryIntervalSeconds: 30 });
    const web = await eventually(async () =>
      (await bus!.desired('c1'))?.set.assignments.find((a) => a.name === 'web'),
    );
    expect(web).toMatchObject({ dependsOn: ['cache', 'db'], retryIntervalSeconds: 30 });
  });

  it('refuses an unknown name, naming the field and the assignment', async () => {
    const err = await grpcError(
      t!.client.assignments.createAssignment(spec('api', { dependsOn: ['db', 'nope'] })),
    );
    expect([err.code, err.details]).toEqual([
      Code.INVALID_ARGUMENT,
      'assignment.depends_on[1]: assignment "team-a/nope" does not exist: create it first (dependencies are assignments of the same tenant)',
    ]);
    expect(
      (await grpcError(t!.client.assignments.getAssignment({ tenant: 'team-a', name: 'api' }))).code,
    ).toBe(Code.NOT_FOUND);
  });

  it("refuses another tenant's assignment, by plain name and as tenant/name", async () => {
    const plain = await grpcError(
      t!.client.assignments.createAssignment(spec('api', { dependsOn: ['queue'] })),
    );
    expect([plain.code, plain.details]).toEqual([
      Code.INVALID_ARGUMENT,
      'assignment.depends_on[0]: assignment "team-a/queue" does not exist: create it first (dependencies are assignments of the same tenant)',
    ]);
    const scoped = await grpcError(
      t!.client.assignments.createAssignment(spec('api', { dependsOn: ['team-b/queue'] })),
    );
    expect([scoped.code, scoped.details]).toEqual([
      Code.INVALID_ARGUMENT,
      'assignment.depends_on[0]: "team-b/queue": dependencies are assignments of the same tenant; give the name only (no "tenant/")',
    ]);
  });

  it('refuses itself, and an update that closes a cycle, naming the cycle; the stored spec stays', async () => {
    const self = await grpcError(t!.client.assignments.updateAssignment(spec('db', { dependsOn: ['db'] })));
    expect([self.code, self.details]).toEqual([
      Code.INVALID_ARGUMENT,
      'assignment.depends_on[0]: "db" is the assignment itself',
    ]);
    const before = (await bus!.desired('c1'))!.revision;
    const cycle = await grpcError(t!.client.assignments.updateAssignment(spec('db', { dependsOn: ['web'] })));
    expect([cycle.code, cycle.details]).toEqual([
      Code.INVALID_ARGUMENT,
      'assignment.depends_on: dependency cycle db → web → cache → db: an assignment cannot wait for itself',
    ]);
    expect((await t!.client.assignments.getAssignment({ tenant: 'team-a', name: 'db' })).dependsOn).toEqual(
      [],
    );
    expect((await bus!.desired('c1'))!.revision).toBe(before); // nothing published
  });

  it('refuses hostile values: bad names, too many, a negative or huge retry interval', async () => {
    const bad = await grpcError(
      t!.client.assignments.createAssignment(spec('api', { dependsOn: ['../db\u0000'] })),
    );
    expect([bad.code, bad.details]).toEqual([
      Code.INVALID_ARGUMENT,
      'assignment.depends_on[0]: "../db\\u0000": dependencies are assignments of the same tenant; give the name only (no "tenant/")',
    ]);
    const many = await grpcError(
      t!.client.assignments.createAssignment(
        spec('api', { dependsOn: Array.from({ length: 33 }, (_, i) => `d${i}`) }),
      ),
    );
    expect(many.details).toBe('assignment.depends_on: 33 dependencies (at most 32)');
    for (const retryIntervalSeconds of [-5, 10 ** 9]) {
      const err = await grpcError(
        t!.client.assignments.createAssignment(spec('api', { retryIntervalSeconds })),
      );
      expect([err.code, err.details]).toEqual([
        Code.INVALID_ARGUMENT,
        `assignment.retry_interval_seconds: ${retryIntervalSeconds} is not a whole number of seconds between 0 (the agent's default) and 86400 (one day)`,
      ]);
    }
    expect(
      (await t!.client.assignments.listAssignments({ tenant: 'team-a' })).assignments.map((a) => a.name),
    ).toEqual(['cache', 'db', 'web']);
  });

  it('refuses deleting a dependency while others depend on it, then deletes in order', async () => {
    const { assignments } = t!.client;
    const err = await grpcError(assignments.deleteAssignment({ tenant: 'team-a', name: 'db' }));
    expect([err.code, err.details]).toEqual([
      Code.FAILED_PRECONDITION,
      'assignment "team-a/db" is a dependency of team-a/cache, team-a/web: remove it from their --depends-on (assignment update) or delete them first',
    ]);
    await assignments.updateAssignment(spec('web', { dependsOn: ['cache'] }));
    await assignments.deleteAssignment({ tenant: 'team-a', name: 'web' });
    await assignments.deleteAssignment({ tenant: 'team-a', name: 'cache' });
    await assignments.deleteAssignment({ tenant: 'team-a', name: 'db' });
  });
});
