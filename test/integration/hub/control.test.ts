// Control of one assignment on a real hub, nats-server and git server: partial updates (every
// field left out keeps its value), suspend/resume, the history of applied revisions recorded
// from status reports, and rollback pinning an assignment to an earlier revision while its repo
// moves on — and who may do it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  AssignmentState,
  STATUS_CONSUMER,
  STATUS_STREAM,
  StatusReport,
  assignmentStatusSubject,
  type Assignment,
  type AssignmentStatus,
  type DeepPartial,
} from '../../../proto/index.js';
import { createHubClient, type HubClient } from '../../../cli/client/hub-client.js';
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

/** The spec fields of an assignment (what an update may change). */
function spec(a: Assignment): Partial<Assignment> {
  const { createdAtMs: _c, updatedAtMs: _u, matchedClusters: _m, ...rest } = a;
  return rest;
}

describe('assignment control', () => {
  let nats: NatsEnv | undefined;
  let git: GitEnv | undefined;
  let bus: BusProbe | undefined;
  let t: TestHub | undefined;
  let repo: GitRepo;
  const clients: HubClient[] = [];
  const tmp = tempDir('gitfleet-hub-control-');

  const base: Assignment = {
    tenant: 'team-a',
    name: 'web',
    repo: 'app',
    path: 'deploy',
    clusters: ['c1'],
    selector: { env: 'prod' },
    targetNamespace: 'team-a-extra',
    prune: false,
    suspend: false,
    renderer: 'helm',
    helm: { releaseName: 'rel', valuesFiles: ['v.yaml'], set: ['a=b'] },
    substitute: { enabled: true, vars: { x: '1' }, strict: true },
    decryptionSecret: 'sops',
    health: { wait: true, checks: ['Deployment/team-a/web'], timeoutSeconds: 120, exprs: [] },
    dependsOn: [],
    retryIntervalSeconds: 30,
    drift: { mode: 'report', ignore: ['Deployment:/spec/replicas'] },
    force: true,
    pinnedRevision: '',
    rollout: undefined,
    createdAtMs: 0,
    updatedAtMs: 0,
    matchedClusters: 0,
    matchExpressions: [],
    groups: [],
    groupVars: [],
  };

  const as = (token: string): HubClient => {
    const c = createHubClient(t!.hub.address, { deadlineMs: 10_000, token });
    clients.push(c);
    return c;
  };

  const report = (cluster: string, status: DeepPartial<AssignmentStatus>) =>
    bus!.js.publish(
      assignmentStatusSubject(cluster),
      StatusReport.encode({ status: StatusReport.fromPartial({ status }).status }).finish(),
    );

  const applied = (cluster: string, assignment: string, revision: string) =>
    report(cluster, {
      tenant: 'team-a',
      assignment,
      state: AssignmentState.ASSIGNMENT_STATE_READY,
      reason: 'ReconciliationSucceeded',
      desiredRevision: revision,
      appliedRevision: revision,
      startedAtMs: Date.now(),
      finishedAtMs: Date.now(),
    });

  beforeAll(async () => {
    nats = await startNats();
    git = await startGit();
    repo = await git.createRepo('app', { 'deploy/cm.yaml': 'kind: ConfigMap\n' });
    const other = await git.createRepo('app2', { 'deploy/cm.yaml': 'kind: ConfigMap\n' });
    t = await startTestHub({ natsUrl: nats.url, db: `${tmp.dir}/hub.db` });
    bus = await busProbe(nats.url);
    const { tenants, repos, clusters, assignments } = t.client;
    await tenants.createTenant({ tenant: { name: 'team-a', namespaces: ['team-a', 'team-a-extra'] } });
    await tenants.createTenant({ tenant: { name: 'team-b', namespaces: ['team-b'] } });
    await repos.createRepo({ repo: { tenant: 'team-a', name: 'app', url: repo.url } });
    await repos.createRepo({ repo: { tenant: 'team-a', name: 'app2', url: other.url } });
    await clusters.createCluster({ cluster: { name: 'c1', labels: { env: 'prod' } } });
    await clusters.createCluster({ cluster: { name: 'c2', labels: { env: 'dev' } } });
    await assignments.createAssignment({ assignment: base });
    const jsm = await jetstreamManager(bus.nc);
    await eventually(() => jsm.consumers.info(STATUS_STREAM, STATUS_CONSUMER));
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await bus?.close();
    await t?.stop();
    await git?.stop();
    await nats?.destroy();
    tmp.remove();
  });

  describe('partial updates', () => {
    // each field path, what the request gives for it, and the change it makes
    const cases: Array<[string, Partial<Assignment>, Partial<Assignment>]> = [
      ['repo', { repo: 'app2' }, { repo: 'app2' }],
      ['path', { path: 'other' }, { path: 'other' }],
      ['clusters', { clusters: ['c2'] }, { clusters: ['c2'] }],
      ['selector', { selector: { env: 'dev' } }, { selector: { env: 'dev' } }],
      ['target_namespace', { targetNamespace: 'team-a' }, { targetNamespace: 'team-a' }],
      ['prune', { prune: true }, { prune: true }],
      ['suspend', { suspend: true }, { suspend: true }],
      ['renderer', { renderer: 'auto' }, { renderer: 'auto' }],
      [
        'helm.release_name',
        { helm: { releaseName: 'rel2', valuesFiles: [], set: [] } },
        { helm: { ...base.helm!, releaseName: 'rel2' } },
      ],
      [
        'helm.values_files',
        { helm: { releaseName: '', valuesFiles: ['w.yaml'], set: [] } },
        { helm: { ...base.helm!, valuesFiles: ['w.yaml'] } },
      ],
      [
        'helm.set',
        { helm: { releaseName: '', valuesFiles: [], set: ['c=d'] } },
        { helm: { ...base.helm!, set: ['c=d'] } },
      ],
      [
        'substitute.vars',
        { substitute: { enabled: false, vars: { y: '2' }, strict: false } },
        { substitute: { ...base.substitute!, vars: { y: '2' } } },
      ],
      [
        'substitute.strict',
        { substitute: { enabled: false, vars: {}, strict: false } },
        { substitute: { ...base.substitute!, strict: false } },
      ],
      ['decryption_secret', { decryptionSecret: 'sops2' }, { decryptionSecret: 'sops2' }],
      ['retry_interval_seconds', { retryIntervalSeconds: 60 }, { retryIntervalSeconds: 60 }],
      ['force', { force: false }, { force: false }],
      [
        'drift.ignore',
        { drift: { mode: '', ignore: ['apps/Deployment:/spec/replicas'] } },
        { drift: { mode: 'report', ignore: ['apps/Deployment:/spec/replicas'] } },
      ],
      [
        'health.wait',
        { health: { wait: false, checks: [], timeoutSeconds: 0, exprs: [] } },
        { health: { ...base.health!, wait: false } },
      ],
      [
        'health.timeout_seconds',
        { health: { wait: false, checks: [], timeoutSeconds: 60, exprs: [] } },
        { health: { ...base.health!, timeoutSeconds: 60 } },
      ],
    ];

    it.each(cases)('changes %s alone and keeps every other field', async (path, given, change) => {
      const { assignments } = t!.client;
      // everything else in the request is blank: only the named field may be taken from it
      const blank: Partial<Assignment> = { tenant: 'team-a', name: 'web' };
      const updated = await assignments.updateAssignment({
        assignment: { ...blank, ...given },
        fields: [path],
      });
      expect(spec(updated)).toEqual(spec({ ...base, ...change }));
      expect(spec(await assignments.getAssignment({ tenant: 'team-a', name: 'web' }))).toEqual(
        spec({ ...base, ...change }),
      );
      // no fields: the whole spec, as before partial updates
      await assignments.updateAssignment({ assignment: base });
      expect(spec(await assignments.getAssignment({ tenant: 'team-a', name: 'web' }))).toEqual(spec(base));
    });

    it('names a message field whole ("helm") to clear it, and validates the merged spec', async () => {
      const { assignments } = t!.client;
      const cleared = await assignments.updateAssignment({
        assignment: { tenant: 'team-a', name: 'web', renderer: 'kustomize' },
        fields: ['renderer', 'helm'],
      });
      expect(cleared).toMatchObject({ renderer: 'kustomize', helm: undefined, decryptionSecret: 'sops' });
      // the kept helm options do not go with the new renderer: refused as a whole, nothing changed
      await assignments.updateAssignment({ assignment: base });
      const err = await grpcError(
        assignments.updateAssignment({
          assignment: { tenant: 'team-a', name: 'web', renderer: 'plain' },
          fields: ['renderer'],
        }),
      );
      expect(err.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(err.details).toMatch(/^assignment\.helm: helm options are for the helm renderer, not "plain"/);
      expect(spec(await assignments.getAssignment({ tenant: 'team-a', name: 'web' }))).toEqual(spec(base));
    });

    it('refuses unknown, output-only and odd field names, naming them, and changes nothing', async () => {
      const { assignments } = t!.client;
      for (const [fields, named] of [
        [['suspend', 'bogus'], 'fields[1]: "bogus"'],
        [['created_at_ms'], 'fields[0]: "created_at_ms"'],
        [['pinned_revision'], 'fields[0]: "pinned_revision"'],
        [['tenant'], 'fields[0]: "tenant"'],
        [['helm.bogus'], 'fields[0]: "helm.bogus"'],
        [['prune.x'], 'fields[0]: "prune.x"'],
        [['targetNamespace'], 'fields[0]: "targetNamespace"'],
        [['__proto__'], 'fields[0]: "__proto__"'],
        [['helm.__proto__'], 'fields[0]: "helm.__proto__"'],
        [['x'.repeat(100_000)], 'fields[0]: "xxxx'],
      ] as const) {
        const err = await grpcError(
          assignments.updateAssignment({
            assignment: { tenant: 'team-a', name: 'web', suspend: true, prune: true },
            fields: [...fields],
          }),
        );
        expect([err.code, err.details.slice(0, named.length)]).toEqual([GrpcStatus.INVALID_ARGUMENT, named]);
        expect(err.details).toContain('is not a field that can be changed (use repo, path, clusters');
        expect(err.details.length).toBeLessThan(1000);
      }
      const many = await grpcError(
        assignments.updateAssignment({
          assignment: { tenant: 'team-a', name: 'web' },
          fields: Array.from({ length: 101 }, () => 'suspend'),
        }),
      );
      expect([many.code, many.details]).toEqual([
        GrpcStatus.INVALID_ARGUMENT,
        'fields: 101 paths (at most 100)',
      ]);
      expect(spec(await assignments.getAssignment({ tenant: 'team-a', name: 'web' }))).toEqual(spec(base));
      const missing = await grpcError(
        assignments.updateAssignment({ assignment: { tenant: 'team-a', name: 'nope' }, fields: ['suspend'] }),
      );
      expect([missing.code, missing.details]).toEqual([
        GrpcStatus.NOT_FOUND,
        'assignment "team-a/nope" not found',
      ]);
    });

    it('updates a repo partially: the ref, the interval, the stored credentials each kept unless named', async () => {
      const { repos } = t!.client;
      await repos.updateRepo({
        repo: { tenant: 'team-a', name: 'app2', credentials: { username: 'bot', password: 'pw' } },
        fields: ['credentials'],
      });
      const before = await repos.getRepo({ tenant: 'team-a', name: 'app2' });
      expect(before).toMatchObject({ hasCredentials: true, branch: 'main', intervalSeconds: 60 });
      const longer = await repos.updateRepo({
        repo: { tenant: 'team-a', name: 'app2', intervalSeconds: 600 },
        fields: ['interval_seconds'],
      });
      expect(longer).toMatchObject({ url: before.url, intervalSeconds: 600, hasCredentials: true });
      const refs = ['branch', 'tag', 'commit', 'semver', 'digest'];
      // one ref replaces another: naming all five, the branch is cleared with the new tag
      const tagged = await repos.updateRepo({
        repo: { tenant: 'team-a', name: 'app2', tag: 'v9' },
        fields: refs,
      });
      expect(tagged).toMatchObject({ tag: 'v9', branch: '', intervalSeconds: 600, hasCredentials: true });
      expect(tagged.resolveError).toContain('v9');
      const err = await grpcError(
        repos.updateRepo({ repo: { tenant: 'team-a', name: 'app2' }, fields: ['revision'] }),
      );
      expect([err.code, err.details.slice(0, 32)]).toEqual([
        GrpcStatus.INVALID_ARGUMENT,
        'fields[0]: "revision" is not a f',
      ]);
      const after = await repos.getRepo({ tenant: 'team-a', name: 'app2' });
      expect(after).toMatchObject({ url: before.url, tag: 'v9', intervalSeconds: 600, hasCredentials: true });
    });
  });

  it('suspends and resumes by naming only "suspend": the desired set follows', async () => {
    const { assignments } = t!.client;
    const suspended = await assignments.updateAssignment({
      assignment: { tenant: 'team-a', name: 'web', suspend: true },
      fields: ['suspend'],
    });
    expect(spec(suspended)).toEqual(spec({ ...base, suspend: true }));
    await eventually(async () => (await bus!.desired('c1'))?.set.assignments[0]?.suspend === true);
    const resumed = await assignments.updateAssignment({
      assignment: { tenant: 'team-a', name: 'web', suspend: false },
      fields: ['suspend'],
    });
    expect(spec(resumed)).toEqual(spec(base));
    await eventually(async () => (await bus!.desired('c1'))?.set.assignments[0]?.suspend === false);
  });

  describe('history and rollback', () => {
    let rev1: string;
    let rev2: string;
    let rev3: string;
    let commit1: string;

    beforeAll(async () => {
      const { assignments, repos } = t!.client;
      await assignments.createAssignment({
        assignment: { tenant: 'team-a', name: 'api', repo: 'app', path: 'deploy', clusters: ['c1', 'c2'] },
      });
      rev1 = (await repos.getRepo({ tenant: 'team-a', name: 'app' })).revision;
      commit1 = await repo.head();
      await applied('c1', 'api', rev1);
      await repo.commit({ 'deploy/cm.yaml': 'kind: ConfigMap\nmetadata: {name: two}\n' });
      rev2 = (await repos.resolveRepo({ tenant: 'team-a', name: 'app' })).revision;
      expect(rev2).not.toBe(rev1);
    });

    it('records each revision a cluster reported as applied, newest first, and only revisions', async () => {
      const { assignments } = t!.client;
      await applied('c1', 'api', rev2);
      await applied('c2', 'api', rev2);
      // an agent's text: what is not a revision is never recorded
      await applied('c2', 'api', 'not-a-revision');
      await applied('c2', 'api', `main@sha1:${'a'.repeat(40)}\u0000`);
      const history = await eventually(async () => {
        const { revisions } = await assignments.listAssignmentHistory({ tenant: 'team-a', name: 'api' });
        return revisions.length === 2 && revisions[0].clusters === 2 ? revisions : undefined;
      });
      expect(history.map((r) => [r.revision, r.clusters, r.current])).toEqual([
        [rev2, 2, true],
        [rev1, 1, false],
      ]);
      expect(history[0].firstAppliedAtMs).toBeGreaterThanOrEqual(history[1].firstAppliedAtMs);
      expect(history[0].lastAppliedAtMs).toBeGreaterThanOrEqual(history[0].firstAppliedAtMs);
      const none = await grpcError(assignments.listAssignmentHistory({ tenant: 'team-a', name: 'nope' }));
      expect([none.code, none.details]).toEqual([GrpcStatus.NOT_FOUND, 'assignment "team-a/nope" not found']);
    });

    it('pins the assignment alone to the previous revision while the repo moves on, until unpinned', async () => {
      const { assignments, repos, status } = t!.client;
      const pinned = await assignments.rollbackAssignment({ tenant: 'team-a', name: 'api' });
      expect(pinned.pinnedRevision).toBe(rev1);
      // the repo moves on: web follows it, api stays on the pin
      await repo.commit({ 'deploy/cm.yaml': 'kind: ConfigMap\nmetadata: {name: three}\n' });
      rev3 = (await repos.resolveRepo({ tenant: 'team-a', name: 'app' })).revision;
      for (const cluster of ['c1', 'c2']) {
        const set = await eventually(async () => {
          const s = (await bus!.desired(cluster))?.set;
          const api = s?.assignments.find((a) => a.name === 'api');
          return api?.source?.revision === rev1 && s ? s : undefined;
        });
        const api = set.assignments.find((a) => a.name === 'api')!;
        expect(api.source).toMatchObject({ revision: rev1, commit: commit1 });
      }
      await eventually(async () => {
        const web = (await bus!.desired('c1'))?.set.assignments.find((a) => a.name === 'web');
        return web?.source?.revision === rev3;
      });
      const rows = (await status.getStatus({ tenant: 'team-a', assignment: 'api' })).statuses;
      expect(rows.map((r) => [r.cluster, r.desiredRevision, r.pinned])).toEqual([
        ['c1', rev1, true],
        ['c2', rev1, true],
      ]);
      const webRows = (await status.getStatus({ tenant: 'team-a', assignment: 'web' })).statuses;
      expect(webRows.every((r) => !r.pinned && r.desiredRevision === rev3)).toBe(true);
      const { revisions } = await assignments.listAssignmentHistory({ tenant: 'team-a', name: 'api' });
      expect(revisions.filter((r) => r.current).map((r) => r.revision)).toEqual([rev1]);
      // an update keeps the pin
      await assignments.updateAssignment({
        assignment: { tenant: 'team-a', name: 'api', prune: false },
        fields: ['prune'],
      });
      expect((await assignments.getAssignment({ tenant: 'team-a', name: 'api' })).pinnedRevision).toBe(rev1);

      // forward again to rev2 by a short commit, as `gitfleet history` shows it
      const short = rev2.replace(/^.*sha1:/, '').slice(0, 8);
      expect(
        (await assignments.rollbackAssignment({ tenant: 'team-a', name: 'api', toRevision: short }))
          .pinnedRevision,
      ).toBe(rev2);

      const unpinned = await assignments.rollbackAssignment({ tenant: 'team-a', name: 'api', unpin: true });
      expect(unpinned.pinnedRevision).toBe('');
      await eventually(async () => {
        const api = (await bus!.desired('c2'))?.set.assignments.find((a) => a.name === 'api');
        return api?.source?.revision === rev3;
      });
      const after = (await status.getStatus({ tenant: 'team-a', assignment: 'api' })).statuses;
      expect(after.map((r) => [r.desiredRevision, r.pinned])).toEqual([
        [rev3, false],
        [rev3, false],
      ]);
    });

    it('refuses revisions not in the history, odd strings and contradictions, pinning nothing', async () => {
      const { assignments } = t!.client;
      const cases: Array<[Parameters<HubClient['assignments']['rollbackAssignment']>[0], number, string]> = [
        [
          { toRevision: `main@sha1:${'0'.repeat(40)}` },
          GrpcStatus.FAILED_PRECONDITION,
          `revision "main@sha1:${'0'.repeat(40)}" is not in the history of assignment "team-a/api": only a revision one of its clusters applied can be pinned`,
        ],
        [{ toRevision: rev3 }, GrpcStatus.FAILED_PRECONDITION, `revision "${rev3}" is not in the history`],
        [
          { toRevision: 'x'.repeat(100_000) },
          GrpcStatus.INVALID_ARGUMENT,
          'to_revision: not a revision (100000 characters)',
        ],
        [
          { toRevision: 'main\n@sha1:x' },
          GrpcStatus.INVALID_ARGUMENT,
          'to_revision: not a revision (12 characters, control characters)',
        ],
        [
          { toRevision: '../../etc' },
          GrpcStatus.FAILED_PRECONDITION,
          'revision "../../etc" is not in the history',
        ],
        [
          { toRevision: rev1, unpin: true },
          GrpcStatus.INVALID_ARGUMENT,
          'to_revision: give either a revision or unpin, not both',
        ],
      ];
      for (const [req, code, message] of cases) {
        const err = await grpcError(
          assignments.rollbackAssignment({ tenant: 'team-a', name: 'api', ...req }),
        );
        expect([err.code, err.details.slice(0, message.length)]).toEqual([code, message]);
        expect(err.details.length).toBeLessThan(2000);
      }
      expect((await assignments.getAssignment({ tenant: 'team-a', name: 'api' })).pinnedRevision).toBe('');
      // nothing applied yet: nothing to roll back to
      await assignments.createAssignment({
        assignment: { tenant: 'team-a', name: 'fresh', repo: 'app', path: 'deploy', clusters: ['c1'] },
      });
      const empty = await grpcError(assignments.rollbackAssignment({ tenant: 'team-a', name: 'fresh' }));
      expect([empty.code, empty.details]).toEqual([
        GrpcStatus.FAILED_PRECONDITION,
        'assignment "team-a/fresh" has no revision applied before ' +
          `${rev3.replace(/(sha1:[0-9a-f]{8})[0-9a-f]+$/, '$1')}: its history is empty (no cluster has reported a revision of it as applied yet)`,
      ]);
      await assignments.deleteAssignment({ tenant: 'team-a', name: 'fresh' });
    });

    it('is a tenant write: the own tenant may, another tenant and viewers may not; audited', async () => {
      const { tokens, audit } = t!.client;
      const own = as((await tokens.createToken({ role: 'tenant', tenant: 'team-a' })).secret);
      const other = as((await tokens.createToken({ role: 'tenant', tenant: 'team-b' })).secret);
      const viewer = as((await tokens.createToken({ role: 'viewer' })).secret);
      const ref = { tenant: 'team-a', name: 'api' };

      for (const c of [other]) {
        expect((await grpcError(c.assignments.rollbackAssignment(ref))).code).toBe(
          GrpcStatus.PERMISSION_DENIED,
        );
        expect((await grpcError(c.assignments.listAssignmentHistory(ref))).code).toBe(
          GrpcStatus.PERMISSION_DENIED,
        );
        expect(
          (
            await grpcError(
              c.assignments.updateAssignment({ assignment: { ...ref, suspend: true }, fields: ['suspend'] }),
            )
          ).code,
        ).toBe(GrpcStatus.PERMISSION_DENIED);
      }
      const denied = await grpcError(viewer.assignments.rollbackAssignment(ref));
      expect([denied.code, denied.details]).toEqual([
        GrpcStatus.PERMISSION_DENIED,
        'rollbackAssignment: a viewer token is read-only',
      ]);
      expect((await viewer.assignments.listAssignmentHistory(ref)).revisions.length).toBeGreaterThan(0);

      expect((await own.assignments.rollbackAssignment({ ...ref, toRevision: rev1 })).pinnedRevision).toBe(
        rev1,
      );
      expect((await own.assignments.rollbackAssignment({ ...ref, unpin: true })).pinnedRevision).toBe('');
      const { entries } = await audit.listAudit({ limit: 20 });
      const rollbacks = entries.filter((e) => e.method === 'RollbackAssignment');
      expect(rollbacks.map((e) => [e.target, e.outcome])).toEqual(
        expect.arrayContaining([
          ['assignment team-a/api', 'OK'],
          ['assignment team-a/api', 'PERMISSION_DENIED'],
        ]),
      );
    });
  });
});
