import { describe, expect, it } from '@jest/globals';
import { AssignmentState, Reason, type AssignmentStatus } from '../../proto/index.js';
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
    objects: 3,
    startedAtMs: 1,
    finishedAtMs: 2,
    ...fields,
  };
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
});
