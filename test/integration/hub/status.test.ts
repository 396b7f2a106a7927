// Status ingest and the status API: StatusReport and Heartbeat messages published on the real
// status stream show up in GetStatus and WatchStatus.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import type { ClientReadableStream } from '@grpc/grpc-js';
import {
  AssignmentState,
  ConditionStatus,
  ConditionType,
  Heartbeat,
  Reason,
  STATUS_CONSUMER,
  STATUS_STREAM,
  StatusReport,
  assignmentStatusSubject,
  findCondition,
  heartbeatSubject,
  type AssignmentStatus,
  type DeepPartial,
} from '../../../proto/index.js';
import {} from '../../../proto/api.js';
import { startGit, startNats, type GitEnv, type GitRepo, type NatsEnv } from '../../env/index.js';
import { busProbe, eventually, startTestHub, tempDir, type BusProbe, type TestHub } from './harness.js';

// real servers: `testTimeout` in a jest project config is not honoured, so set it here

/** Collects a WatchStatus stream. */
function collect(stream: ClientReadableStream<AssignmentStatus>) {
  const seen: AssignmentStatus[] = [];
  const state = { ended: false, error: undefined as (Error & { code?: number }) | undefined };
  stream.on('data', (s: AssignmentStatus) => seen.push(s));
  stream.on('error', (err) => (state.error = err));
  stream.on('end', () => (state.ended = true));
  stream.on('close', () => (state.ended = true));
  return { seen, state, latest: (a: string) => [...seen].reverse().find((s) => s.assignment === a) };
}

/** [status, reason] of one condition, as Flux tests assert them. */
function condition(s: AssignmentStatus | undefined, type: ConditionType): [string, string] | undefined {
  const c = findCondition(s?.conditions, type);
  return c && [c.status, c.reason];
}

describe('status', () => {
  let nats: NatsEnv | undefined;
  let git: GitEnv | undefined;
  let bus: BusProbe | undefined;
  let t: TestHub | undefined;
  let repo: GitRepo;
  let revision: string;
  const tmp = tempDir('gitfleet-hub-status-');

  beforeAll(async () => {
    nats = await startNats();
    git = await startGit();
    repo = await git.createRepo('app', { 'deploy/cm.yaml': 'kind: ConfigMap\n' });
    t = await startTestHub({ natsUrl: nats.url, db: `${tmp.dir}/hub.db` });
    bus = await busProbe(nats.url);
    const { tenants, repos, clusters, assignments } = t.client;
    await tenants.createTenant({ tenant: { name: 'team-a', namespaces: ['team-a'] } });
    revision = (await repos.createRepo({ repo: { tenant: 'team-a', name: 'app', url: repo.url } })).revision;
    await clusters.createCluster({ cluster: { name: 'c1', labels: { env: 'prod' } } });
    await clusters.createCluster({ cluster: { name: 'c2', labels: { env: 'dev' } } });
    await assignments.createAssignment({
      assignment: { tenant: 'team-a', name: 'web', repo: 'app', path: 'deploy', clusters: ['c1'] },
    });
    // the hub creates the status stream and its durable consumer when it connects
    const jsm = await jetstreamManager(bus.nc);
    await eventually(() => jsm.consumers.info(STATUS_STREAM, STATUS_CONSUMER));
  });

  afterAll(async () => {
    await bus?.close();
    await t?.stop();
    await git?.stop();
    await nats?.destroy();
    tmp.remove();
  });

  const report = (cluster: string, status: DeepPartial<AssignmentStatus>) =>
    bus!.js.publish(
      assignmentStatusSubject(cluster),
      StatusReport.encode({ status: StatusReport.fromPartial({ status }).status }).finish(),
    );

  it('shows a pending row for a published assignment without a report', async () => {
    const res = await t!.client.status.getStatus({});
    expect(res.statuses).toEqual([
      expect.objectContaining({
        cluster: 'c1',
        tenant: 'team-a',
        assignment: 'web',
        state: AssignmentState.ASSIGNMENT_STATE_PENDING,
        reason: Reason.Pending,
        desiredRevision: revision,
      }),
    ]);
    expect(res.clusters.map((c) => c.name)).toEqual(['c1', 'c2']);
    // the hub's own row has conditions too: nothing is known yet
    expect(condition(res.statuses[0], ConditionType.Ready)).toEqual([
      ConditionStatus.Unknown,
      Reason.Pending,
    ]);
  });

  it('records heartbeats on the cluster', async () => {
    const sentAtMs = Date.now();
    await bus!.js.publish(
      heartbeatSubject('c1'),
      Heartbeat.encode(
        Heartbeat.fromPartial({
          cluster: 'c1',
          agentVersion: '0.1.0-test',
          observedGeneration: 2,
          sentAtMs,
        }),
      ).finish(),
    );
    const c1 = await eventually(async () => {
      const c = await t!.client.clusters.getCluster({ name: 'c1' });
      return c.lastHeartbeatMs === sentAtMs ? c : undefined;
    });
    expect(c1).toMatchObject({ agentVersion: '0.1.0-test', observedGeneration: 2, desiredGeneration: 2 });
  });

  it('streams the current statuses, then every change, through WatchStatus', async () => {
    const stream = t!.client.status.watchStatus({ cluster: 'c1' });
    const w = collect(stream);
    try {
      await eventually(() => w.latest('web')?.state === AssignmentState.ASSIGNMENT_STATE_PENDING);

      // a report for an unknown assignment is acked and ignored; the next one still arrives
      await report('c1', {
        tenant: 'team-a',
        assignment: 'nope',
        state: AssignmentState.ASSIGNMENT_STATE_READY,
      });
      await report('c1', {
        tenant: 'team-a',
        assignment: 'web',
        state: AssignmentState.ASSIGNMENT_STATE_PROGRESSING,
        reason: Reason.Progressing,
        desiredRevision: revision,
        observedGeneration: 2,
      });
      await eventually(() => w.latest('web')?.state === AssignmentState.ASSIGNMENT_STATE_PROGRESSING);
      // that report came without conditions (an agent older than them): the hub derives them
      expect(condition(w.latest('web'), ConditionType.Reconciling)).toEqual([
        ConditionStatus.True,
        Reason.Progressing,
      ]);
      expect(condition(w.latest('web'), ConditionType.Ready)).toEqual([
        ConditionStatus.Unknown,
        Reason.Progressing,
      ]);
      const readySince = Date.now() - 1000;
      await report('c1', {
        tenant: 'team-a',
        assignment: 'web',
        state: AssignmentState.ASSIGNMENT_STATE_READY,
        reason: Reason.ReconciliationSucceeded,
        message: 'applied 1 object',
        desiredRevision: revision,
        appliedRevision: revision,
        observedGeneration: 2,
        changes: { created: 1 },
        objects: 1,
        finishedAtMs: Date.now(),
        drifted: [{ object: 'ConfigMap/team-a/cfg', fields: ['/data/a'], corrected: true, detectedAtMs: 5 }],
        conditions: [
          {
            type: ConditionType.Ready,
            status: ConditionStatus.True,
            reason: Reason.ReconciliationSucceeded,
            message: 'applied 1 object',
            observedGeneration: 2,
            lastTransitionTimeMs: readySince,
          },
        ],
      });
      const ready = await eventually(() =>
        w.latest('web')?.state === AssignmentState.ASSIGNMENT_STATE_READY ? w.latest('web') : undefined,
      );
      expect(ready).toMatchObject({
        cluster: 'c1',
        reason: Reason.ReconciliationSucceeded,
        message: 'applied 1 object',
        appliedRevision: revision,
        changes: { created: 1, configured: 0, unchanged: 0, deleted: 0 },
        objects: 1,
        // the agent's drift report is stored and returned with the status
        drifted: [{ object: 'ConfigMap/team-a/cfg', fields: ['/data/a'], corrected: true, detectedAtMs: 5 }],
      });
      expect(w.seen.some((s) => s.assignment === 'nope')).toBe(false);
      // the agent's conditions are stored and returned as it sent them
      expect(condition(ready, ConditionType.Ready)).toEqual([
        ConditionStatus.True,
        Reason.ReconciliationSucceeded,
      ]);
      expect(condition(ready, ConditionType.Reconciling)).toBeUndefined();

      const res = await t!.client.status.getStatus({ tenant: 'team-a', assignment: 'web' });
      expect(res.statuses).toEqual([ready]);
      expect(findCondition(res.statuses[0].conditions, ConditionType.Ready)).toMatchObject({
        observedGeneration: 2,
        lastTransitionTimeMs: readySince,
      });
      expect(res.clusters.map((c) => c.name)).toEqual(['c1']);

      // a desired-side change is a change too: a new assignment appears as pending
      await t!.client.assignments.createAssignment({
        assignment: {
          tenant: 'team-a',
          name: 'jobs',
          repo: 'app',
          path: 'deploy',
          selector: { env: 'prod' },
        },
      });
      await eventually(() => w.latest('jobs')?.state === AssignmentState.ASSIGNMENT_STATE_PENDING);
      // reports for other clusters are not in this watch
      expect(w.seen.every((s) => s.cluster === 'c1')).toBe(true);
    } finally {
      stream.cancel();
    }
    await eventually(() => w.state.ended || w.state.error !== undefined);
    expect(w.state.error?.code ?? 1).toBe(1); // CANCELLED, or a clean end
  });

  it('deletes the status rows of a deleted assignment', async () => {
    await t!.client.assignments.deleteAssignment({ tenant: 'team-a', name: 'web' });
    const res = await t!.client.status.getStatus({ assignment: 'web' });
    expect(res.statuses).toEqual([]);
  });

  it('keeps ingesting after NATS restarts', async () => {
    await nats!.kill();
    await nats!.restart();
    const sentAtMs = Date.now();
    const hb = Heartbeat.encode(
      Heartbeat.fromPartial({
        cluster: 'c2',
        agentVersion: '0.2.0',
        observedGeneration: 1,
        sentAtMs,
      }),
    ).finish();
    // the probe's own connection may need a moment to come back: retry the publish
    await eventually(() => bus!.js.publish(heartbeatSubject('c2'), hb), { timeoutMs: 30_000 });
    await eventually(
      async () => (await t!.client.clusters.getCluster({ name: 'c2' })).lastHeartbeatMs === sentAtMs,
      { timeoutMs: 60_000 },
    );
  });

  it('ends open watches cleanly when the hub stops', async () => {
    const w = collect(t!.client.status.watchStatus({}));
    await eventually(() => w.seen.length > 0);
    await t!.hub.close();
    await eventually(() => w.state.ended || w.state.error !== undefined);
  });
});
