import { describe, expect, it } from '@jest/globals';
import {
  AssignmentState,
  ConditionStatus,
  ConditionType,
  Reason,
  findCondition,
  statusConditions,
  type AssignmentStatus,
} from '../../proto/index.js';
import { buildSnapshot } from '../desired/desired-set.js';
import { assignment, repo, SHA1, tenant } from '../../test/fixtures/hub-records.js';
import { buildStatusView } from './status-view.js';

const clusters = [
  { name: 'c1', labels: { env: 'prod' } },
  { name: 'c2', labels: { env: 'prod' } },
];
const snapshot = buildSnapshot(
  [tenant('team-a')],
  [repo('team-a', 'app'), repo('team-a', 'new', { revision: '', resolveError: '' })],
  [
    assignment('team-a', 'web', { selector: { env: 'prod' } }),
    assignment('team-a', 'later', { repo: 'new', clusters: ['c1'] }),
  ],
);

function report(cluster: string, name: string, fields: Partial<AssignmentStatus> = {}): AssignmentStatus {
  const summary = {
    state: AssignmentState.ASSIGNMENT_STATE_READY,
    reason: Reason.ReconciliationSucceeded,
    message: 'applied 3 objects',
    observedGeneration: 2,
  };
  return {
    cluster,
    tenant: 'team-a',
    assignment: name,
    state: AssignmentState.ASSIGNMENT_STATE_READY,
    reason: Reason.ReconciliationSucceeded,
    message: 'applied 3 objects',
    desiredRevision: 'main@sha1:old',
    appliedRevision: `main@sha1:${SHA1}`,
    observedGeneration: 2,
    changes: { created: 3, configured: 0, unchanged: 0, deleted: 0 },
    pinned: false,
    objects: 3,
    startedAtMs: 1,
    finishedAtMs: 2,
    conditions: statusConditions(summary, { nowMs: 2 }),
    notReady: [],
    nextRetryAtMs: 0,
    waitingFor: [],
    drifted: [],
    ...fields,
  };
}

/** [status, reason] of a condition, as Flux tests assert them. */
function condition(s: AssignmentStatus | undefined, type: ConditionType): [string, string] | undefined {
  const c = findCondition(s?.conditions, type);
  return c && [c.status, c.reason];
}

const all = { tenant: '', cluster: '', assignment: '' };

describe('buildStatusView', () => {
  it('shows reports, synthetic pending rows and unresolved repos, sorted', () => {
    const rows = buildStatusView(clusters, snapshot, [report('c1', 'web')], all);
    expect(rows.map((r) => [r.assignment, r.cluster, r.state, r.reason])).toEqual([
      ['later', 'c1', AssignmentState.ASSIGNMENT_STATE_PENDING, Reason.RevisionNotResolved],
      ['web', 'c1', AssignmentState.ASSIGNMENT_STATE_READY, Reason.ReconciliationSucceeded],
      ['web', 'c2', AssignmentState.ASSIGNMENT_STATE_PENDING, Reason.Pending],
    ]);
    // the hub states what it wants now
    expect(rows[1].desiredRevision).toBe(`main@sha1:${SHA1}`);
    expect(rows[2].desiredRevision).toBe(`main@sha1:${SHA1}`);
    expect(rows[0].message).toBe('waiting for repo "team-a/new" to resolve to a revision');
  });

  it('gives its own rows conditions: Ready is Unknown until the agent reports', () => {
    const rows = buildStatusView(clusters, snapshot, [], all);
    const pendingRow = rows.find((r) => r.assignment === 'web' && r.cluster === 'c2');
    expect(condition(pendingRow, ConditionType.Ready)).toEqual([ConditionStatus.Unknown, Reason.Pending]);
    expect(findCondition(pendingRow?.conditions, ConditionType.Ready)?.lastTransitionTimeMs).toBe(0);
    const unresolved = rows.find((r) => r.assignment === 'later');
    expect(condition(unresolved, ConditionType.Ready)).toEqual([
      ConditionStatus.Unknown,
      Reason.RevisionNotResolved,
    ]);
    expect(condition(unresolved, ConditionType.Reconciling)).toBeUndefined();
  });

  it('keeps the conditions an agent reported', () => {
    const failed = report('c1', 'web', {
      state: AssignmentState.ASSIGNMENT_STATE_FAILED,
      reason: Reason.BuildFailed,
      conditions: statusConditions(
        {
          state: AssignmentState.ASSIGNMENT_STATE_FAILED,
          reason: Reason.BuildFailed,
          message: 'bad yaml',
          observedGeneration: 2,
        },
        { nowMs: 5, stalled: true },
      ),
    });
    const row = buildStatusView(clusters, snapshot, [failed], all).find(
      (r) => r.cluster === 'c1' && r.assignment === 'web',
    );
    expect(row?.conditions).toEqual(failed.conditions);
  });

  it('derives conditions for a report from an agent older than conditions', () => {
    const old = report('c1', 'web', {
      state: AssignmentState.ASSIGNMENT_STATE_FAILED,
      reason: Reason.ApplyFailed,
      message: 'apply ConfigMap a/b: forbidden',
      finishedAtMs: 42,
      conditions: [],
    });
    const row = buildStatusView(clusters, snapshot, [old], all).find(
      (r) => r.cluster === 'c1' && r.assignment === 'web',
    );
    expect(condition(row, ConditionType.Ready)).toEqual([ConditionStatus.False, Reason.ApplyFailed]);
    expect(findCondition(row?.conditions, ConditionType.Ready)).toMatchObject({
      message: 'apply ConfigMap a/b: forbidden',
      observedGeneration: 2,
      lastTransitionTimeMs: 42,
    });
  });

  it('keeps reports for pairs the hub no longer wants', () => {
    const gone = report('c2', 'old', { reason: Reason.Deleted });
    const rows = buildStatusView(clusters, snapshot, [gone], all);
    expect(rows.find((r) => r.assignment === 'old')).toEqual(gone);
  });

  it('filters by cluster, tenant and assignment', () => {
    expect(buildStatusView(clusters, snapshot, [], { ...all, cluster: 'c2' }).map((r) => r.cluster)).toEqual([
      'c2',
    ]);
    expect(buildStatusView(clusters, snapshot, [], { ...all, assignment: 'later' })).toHaveLength(1);
    expect(buildStatusView(clusters, snapshot, [], { ...all, tenant: 'team-b' })).toHaveLength(0);
  });

  it('reports every assignment of a cluster whose desired set is too large, keeping what is applied', () => {
    const rows = buildStatusView(
      clusters,
      snapshot,
      [report('c1', 'web')],
      { tenant: '', cluster: 'c1', assignment: '' },
      new Map([
        [
          'c1',
          {
            reason: Reason.DesiredSetTooLarge,
            message: 'the desired set of cluster "c1" would be 2,000,000 bytes, over the limit',
          },
        ],
      ]),
    );
    const web = rows.find((r) => r.assignment === 'web')!;
    expect(web).toMatchObject({
      state: AssignmentState.ASSIGNMENT_STATE_FAILED,
      reason: Reason.DesiredSetTooLarge,
      appliedRevision: `main@sha1:${SHA1}`,
      observedGeneration: 2,
    });
    expect(web.message).toContain('2,000,000 bytes');
    expect(findCondition(web.conditions, ConditionType.Ready)).toMatchObject({
      status: ConditionStatus.False,
      reason: Reason.DesiredSetTooLarge,
    });
    // not in the set at all (unresolved): unchanged
    expect(rows.find((r) => r.assignment === 'later')!.reason).toBe(Reason.RevisionNotResolved);
  });
});
