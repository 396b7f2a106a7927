// Staged rollouts on the real hub, nats-server and git server, with agents simulated on the bus:
// each "agent" heartbeats, reads its cluster's desired set from the KV bucket and reports the
// assignment Ready (or Failed, or nothing while held) at the revision it holds. Covers three stages
// gated on Ready + soak, a failure that pauses, resume, undo, abort, an offline cluster waited
// for, a hub restart mid-rollout (same SQLite file), the herd cap and hostile inputs.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { status as grpcStatus } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import {
  AssignmentState,
  Heartbeat,
  StatusReport,
  assignmentStatusSubject,
  heartbeatSubject,
  parseLabelSelector,
  type Rollout,
} from '../../../proto/index.js';
import { createHubClient } from '../../../cli/client/hub-client.js';
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

const CLUSTERS = { c1: 'canary', e1: 'early', e2: 'early', r1: '', r2: '' } as const;
type Name = keyof typeof CLUSTERS;
const NAMES = Object.keys(CLUSTERS) as Name[];

describe('staged rollouts', () => {
  let nats: NatsEnv | undefined;
  let git: GitEnv | undefined;
  let bus: BusProbe | undefined;
  let t: TestHub | undefined;
  let repo: GitRepo;
  let agents: NodeJS.Timeout | undefined;
  const tmp = tempDir('gitfleet-hub-rollouts-');
  const db = `${tmp.dir}/hub.db`;

  // the simulated agents
  const failing = new Set<string>();
  const held = new Set<string>();
  const silent = new Set<string>();
  /** cluster → assignment → last revision reported */
  const reported = new Map<string, string>();
  /** `${cluster} ${revision}` → the clusters Ready at that revision when this one first got it */
  const readyWhenStarted = new Map<string, Set<string>>();
  let seq = Date.now();

  const publishReport = (cluster: string, assignment: string, revision: string, failed: boolean) => {
    const at = ++seq;
    return bus!.js.publish(
      assignmentStatusSubject(cluster),
      StatusReport.encode({
        status: StatusReport.fromPartial({
          status: {
            cluster,
            tenant: 'team-a',
            assignment,
            state: failed ? AssignmentState.ASSIGNMENT_STATE_FAILED : AssignmentState.ASSIGNMENT_STATE_READY,
            message: failed ? 'apply failed: simulated' : '',
            desiredRevision: revision,
            appliedRevision: failed ? '' : revision,
            startedAtMs: at,
            finishedAtMs: at,
          },
        }).status,
      }).finish(),
    );
  };

  let agentPass: Promise<void> | undefined;
  const agentLoop = async () => {
    for (const cluster of NAMES) {
      if (silent.has(cluster)) continue;
      await bus!.js.publish(
        heartbeatSubject(cluster),
        Heartbeat.encode(
          Heartbeat.fromPartial({ cluster, agentVersion: 'sim', sentAtMs: Date.now() }),
        ).finish(),
      );
      const set = (await bus!.desired(cluster))?.set;
      for (const a of set?.assignments ?? []) {
        const revision = a.source!.revision;
        const key = `${cluster} ${a.name} ${revision}`;
        if (!readyWhenStarted.has(key)) {
          readyWhenStarted.set(
            key,
            new Set(NAMES.filter((c) => reported.get(`${c} ${a.name}`) === `ready ${revision}`)),
          );
        }
        if (held.has(cluster)) continue;
        const state = `${failing.has(cluster) ? 'failed' : 'ready'} ${revision}`;
        if (reported.get(`${cluster} ${a.name}`) === state) continue;
        await publishReport(cluster, a.name, revision, failing.has(cluster));
        reported.set(`${cluster} ${a.name}`, state);
      }
    }
  };

  const startHub = (maxConcurrentFetch = 0) =>
    startTestHub({ natsUrl: nats!.url, db, clusterOfflineAfterSeconds: 3, maxConcurrentFetch });

  beforeAll(async () => {
    nats = await startNats();
    git = await startGit();
    repo = await git.createRepo('app', { 'deploy/cm.yaml': 'kind: ConfigMap\n' });
    t = await startHub();
    bus = await busProbe(nats.url);
    const { tenants, repos, clusters } = t.client;
    await tenants.createTenant({ tenant: { name: 'team-a', namespaces: ['team-a'] } });
    await tenants.createTenant({ tenant: { name: 'team-b', namespaces: ['team-b'] } });
    await repos.createRepo({ repo: { tenant: 'team-a', name: 'app', url: repo.url } });
    for (const name of NAMES) {
      const ring = CLUSTERS[name];
      await clusters.createCluster({ cluster: { name, labels: { app: 'web', ...(ring ? { ring } : {}) } } });
    }
    agents = setInterval(() => {
      agentPass ??= agentLoop()
        .catch(() => undefined)
        .finally(() => (agentPass = undefined));
    }, 200);
  });

  afterAll(async () => {
    if (agents) clearInterval(agents);
    await agentPass;
    await bus?.close();
    await t?.stop();
    await git?.stop();
    await nats?.destroy();
    tmp.remove();
  });

  const revisionOn = async (cluster: string, assignment = 'web') =>
    (await bus!.desired(cluster))?.set.assignments.find((a) => a.name === assignment)?.source?.revision;
  const revisions = async (assignment = 'web') =>
    Object.fromEntries(await Promise.all(NAMES.map(async (c) => [c, await revisionOn(c, assignment)])));
  const rollout = (assignment = 'web'): Promise<Rollout> =>
    t!.client.rollouts.getRollout({ tenant: 'team-a', assignment });
  const push = async (n: number): Promise<string> => {
    await repo.commit({ 'deploy/cm.yaml': `kind: ConfigMap\n# ${n}\n` });
    return (await t!.client.repos.resolveRepo({ tenant: 'team-a', name: 'app' })).revision;
  };
  const clusterState = (r: Rollout, cluster: string) =>
    r.stages.flatMap((s) => s.clusters).find((c) => c.cluster === cluster)?.state;

  const grpcErrorOr = <T>(p: Promise<T>): Promise<T | undefined> => p.catch(() => undefined);

  let rev1 = '';
  let rev2 = '';
  let rev3 = '';

  it('refuses hostile rollout options with the field named, and changes nothing', async () => {
    const create = (rollout: object) =>
      grpcError(
        t!.client.assignments.createAssignment({
          assignment: {
            tenant: 'team-a',
            name: 'bad',
            repo: 'app',
            path: 'deploy',
            selector: { app: 'web' },
            rollout,
          },
        }),
      );
    const cases: Array<[object, RegExp]> = [
      [{ maxUnavailable: '0' }, /assignment\.rollout\.max_unavailable: "0": at least 1/],
      [
        { maxUnavailable: '101%' },
        /assignment\.rollout\.max_unavailable: "101%": a percentage between 1% and 100%/,
      ],
      [{ maxUnavailable: '-1' }, /assignment\.rollout\.max_unavailable: "-1" is not a number/],
      [{ maxUnavailable: 'abc' }, /assignment\.rollout\.max_unavailable: "abc" is not a number/],
      [{ soakSeconds: -5 }, /assignment\.rollout\.soak_seconds/],
      [{ soakSeconds: 10 ** 12 }, /assignment\.rollout\.soak_seconds/],
      [{ maxFailures: -1 }, /assignment\.rollout\.max_failures/],
      [
        { stages: [{ matchLabels: {}, matchExpressions: [{ key: 'ring', operator: 'Near', values: [] }] }] },
        /assignment\.rollout\.stages\[0\]\.matchExpressions\[0\]\.operator: "Near" is not one of/,
      ],
      [
        { stages: [{ matchLabels: {}, matchExpressions: [] }] },
        /assignment\.rollout\.stages\[0\]: an empty stage/,
      ],
    ];
    for (const [options, message] of cases) {
      const err = await create(options);
      expect(err.code).toBe(grpcStatus.INVALID_ARGUMENT);
      expect(err.details).toMatch(message);
    }
    expect((await t!.client.assignments.listAssignments({ tenant: 'team-a' })).assignments).toEqual([]);
  });

  it('the first revision goes out at once; the next one in three stages gated on Ready and soak', async () => {
    await t!.client.assignments.createAssignment({
      assignment: {
        tenant: 'team-a',
        name: 'web',
        repo: 'app',
        path: 'deploy',
        selector: { app: 'web' },
        rollout: {
          stages: [parseLabelSelector('ring=canary'), parseLabelSelector('ring in (early)')],
          soakSeconds: 1,
          maxFailures: 0,
        },
      },
    });
    rev1 = (await t!.client.repos.getRepo({ tenant: 'team-a', name: 'app' })).revision;
    await eventually(async () => Object.values(await revisions()).every((r) => r === rev1));
    // the driver records the first revision's rollout on its next pass
    await eventually(async () => (await grpcErrorOr(rollout()))?.revision === rev1);
    expect(await rollout()).toMatchObject({ state: 'Finished', revision: rev1, previousRevision: '' });

    rev2 = await push(2);
    await eventually(async () => (await rollout()).revision === rev2);
    await eventually(async () => (await rollout()).state === 'Finished', { timeoutMs: 60_000 });
    expect(await revisions()).toEqual({ c1: rev2, e1: rev2, e2: rev2, r1: rev2, r2: rev2 });
    // each stage started only once the one before was Ready at rev2
    const before = (c: string) => readyWhenStarted.get(`${c} web ${rev2}`);
    for (const c of ['e1', 'e2']) expect([...before(c)!]).toContain('c1');
    for (const c of ['r1', 'r2']) expect([...before(c)!]).toEqual(expect.arrayContaining(['c1', 'e1', 'e2']));
    expect(before('c1')!.size).toBe(0);
    const done = await rollout();
    expect(done).toMatchObject({ previousRevision: rev1, stage: 3 });
    expect(done.stages.map((s) => [s.selector, s.state, s.clusters.map((c) => c.cluster)])).toEqual([
      ['ring=canary', 'Done', ['c1']],
      ['ring in (early)', 'Done', ['e1', 'e2']],
      ['', 'Done', ['r1', 'r2']],
    ]);
  });

  it('a failure beyond --max-failures pauses; clusters keep what they run; resume finishes it', async () => {
    failing.add('e1');
    rev3 = await push(3);
    await eventually(async () => (await rollout()).state === 'Paused', { timeoutMs: 60_000 });
    const paused = await rollout();
    expect(paused.message).toMatch(
      /paused at stage 2 of 3: 1 cluster\(s\) failed .*\(e1; e1: apply failed: simulated\)/,
    );
    expect(clusterState(paused, 'e1')).toBe('Failed');
    expect(await revisions()).toMatchObject({ c1: rev3, e1: rev3, e2: rev3, r1: rev2, r2: rev2 });
    // fixed, but paused: nothing starts until resumed
    failing.delete('e1');
    await eventually(async () => clusterState(await rollout(), 'e1') === 'Ready');
    expect((await rollout()).state).toBe('Paused');
    expect(await revisionOn('r1')).toBe(rev2);
    expect((await t!.client.rollouts.resumeRollout({ tenant: 'team-a', assignment: 'web' })).state).toBe(
      'Progressing',
    );
    await eventually(async () => (await rollout()).state === 'Finished', { timeoutMs: 60_000 });
    expect(new Set(Object.values(await revisions()))).toEqual(new Set([rev3]));
  });

  it('undo pins the previous revision on every cluster at once', async () => {
    held.add('c1'); // stage 1 never gets Ready: the rollout stays at stage 1
    const rev4 = await push(4);
    await eventually(async () => (await revisionOn('c1')) === rev4);
    const undone = await t!.client.rollouts.undoRollout({ tenant: 'team-a', assignment: 'web' });
    expect(undone).toMatchObject({ state: 'Undone', revision: rev4, previousRevision: rev3 });
    await eventually(async () => Object.values(await revisions()).every((r) => r === rev3));
    held.delete('c1');
  });

  it('abort stops the rollout; clusters keep their pins', async () => {
    held.add('c1');
    const rev5 = await push(5);
    await eventually(async () => (await revisionOn('c1')) === rev5);
    const aborted = await t!.client.rollouts.abortRollout({ tenant: 'team-a', assignment: 'web' });
    expect(aborted.state).toBe('Aborted');
    expect(aborted.message).toMatch(/clusters keep the revision they were pinned to/);
    expect(await revisions()).toEqual({ c1: rev5, e1: rev3, e2: rev3, r1: rev3, r2: rev3 });
    // a second abort is refused with the reason
    const again = await grpcError(t!.client.rollouts.abortRollout({ tenant: 'team-a', assignment: 'web' }));
    expect(again.code).toBe(grpcStatus.FAILED_PRECONDITION);
    expect(again.details).toMatch(/cannot abort the rollout of "team-a\/web" .*: it is Aborted/);
    held.delete('c1');
  });

  it('a hub restart mid-rollout continues at the same stage with the same pins; an offline cluster is waited for', async () => {
    held.add('e1');
    const rev6 = await push(6);
    await eventually(async () => (await revisionOn('e2')) === rev6, { timeoutMs: 60_000 });
    const before = await rollout();
    expect(before).toMatchObject({ state: 'Progressing', stage: 2, revision: rev6 });
    const pinsBefore = await revisions();
    expect(pinsBefore).toMatchObject({ c1: rev6, e1: rev6, e2: rev6, r1: rev3, r2: rev3 });

    await t!.stop();
    t = await startHub(1);
    const after = await rollout();
    expect(after).toMatchObject({ state: 'Progressing', stage: 2, revision: rev6, previousRevision: rev3 });
    expect(await revisions()).toEqual(pinsBefore);

    // r2's agent goes away before its stage: waited for, reported Offline, the rollout not finished
    silent.add('r2');
    await eventually(async () => clusterState(await rollout(), 'r2') === 'Offline', { timeoutMs: 30_000 });
    held.delete('e1');
    await eventually(async () => (await revisionOn('r1')) === rev6, { timeoutMs: 60_000 });
    await eventually(async () => clusterState(await rollout(), 'r1') === 'Ready');
    const waiting = await rollout();
    expect(waiting.state).toBe('Progressing');
    expect(waiting.stages[2].clusters.find((c) => c.cluster === 'r2')).toMatchObject({
      state: 'Offline',
      message: expect.stringMatching(/waited for/),
    });
    silent.delete('r2');
    await eventually(async () => (await rollout()).state === 'Finished', { timeoutMs: 60_000 });
  });

  it('--max-concurrent-fetch: at most N clusters of one source host start in the same second', async () => {
    await t!.client.assignments.createAssignment({
      assignment: {
        tenant: 'team-a',
        name: 'api',
        repo: 'app',
        path: 'deploy',
        selector: { app: 'web' },
        rollout: { stages: [], maxUnavailable: '100%' },
      },
    });
    await eventually(async () => (await grpcErrorOr(rollout('api')))?.state === 'Finished');
    const rev7 = await push(7);
    await eventually(
      async () => (await rollout('api')).revision === rev7 && (await rollout('api')).state === 'Finished',
      { timeoutMs: 60_000 },
    );
    await eventually(async () => (await rollout('web')).state === 'Finished', { timeoutMs: 60_000 });
    const store = new Database(db, { readonly: true });
    try {
      const rows = store
        .prepare('select cluster, assignment, pinned_at_ms from rollout_pins where revision = ?')
        .all(rev7) as Array<{ pinned_at_ms: number }>;
      expect(rows).toHaveLength(10);
      const perSecond = new Map<number, number>();
      for (const r of rows) {
        const s = Math.floor(Number(r.pinned_at_ms) / 1000);
        perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
      }
      expect(Math.max(...perSecond.values())).toBe(1);
    } finally {
      store.close();
    }
  });

  it('a tenant token acts on its own tenant rollouts only; unknown names are clear errors', async () => {
    const other = createHubClient(t!.hub.address, {
      token: (await t!.client.tokens.createToken({ role: 'tenant', tenant: 'team-b' })).secret,
    });
    const own = createHubClient(t!.hub.address, {
      token: (await t!.client.tokens.createToken({ role: 'tenant', tenant: 'team-a' })).secret,
    });
    try {
      for (const call of [
        other.rollouts.getRollout({ tenant: 'team-a', assignment: 'web' }),
        other.rollouts.undoRollout({ tenant: 'team-a', assignment: 'web' }),
        other.rollouts.pauseRollout({ tenant: 'team-a', assignment: 'web' }),
      ]) {
        const err = await grpcError(call);
        expect(err.code).toBe(grpcStatus.PERMISSION_DENIED);
        expect(err.details).toMatch(/this token is for tenant "team-b" only/);
      }
      expect((await own.rollouts.getRollout({ tenant: 'team-a', assignment: 'web' })).state).toBe('Finished');
      const missing = await grpcError(own.rollouts.getRollout({ tenant: 'team-a', assignment: 'nope' }));
      expect(missing.code).toBe(grpcStatus.NOT_FOUND);
      const bad = await grpcError(
        t!.client.rollouts.getRollout({ tenant: 'team-a', assignment: 'Bad Name' }),
      );
      expect(bad.code).toBe(grpcStatus.INVALID_ARGUMENT);
      expect(bad.details).toMatch(/^assignment: /);
    } finally {
      other.close();
      own.close();
    }
  });

  it('refuses a hostile --max-concurrent-fetch at start', async () => {
    for (const v of [-1, 1.5, Number.NaN, 10 ** 9]) {
      await expect(
        startTestHub({ natsUrl: nats!.url, db: ':memory:', maxConcurrentFetch: v }),
      ).rejects.toThrow(/maxConcurrentFetch: must be a whole number of clusters per source host per second/);
    }
  });
});
