// What GetStatus/WatchStatus show (pure): every assignment × cluster pair the hub wants, with the
// agent's last report when there is one (else a synthetic PENDING row), plus reports for pairs the
// hub no longer wants (e.g. "Deleted" after the assignment stopped selecting the cluster). Every
// row carries conditions: the agent's, or derived from the summary by the contract's builder (for
// the hub's own rows and for reports from agents older than conditions).
import { AssignmentState, Reason, withConditions, type AssignmentStatus } from '../../proto/index.js';
import { computeDesiredSet, repoKey, type DesiredSnapshot } from '../desired/desired-set.js';
import type { ClusterIdentity } from '../desired/selector.js';

/** Empty fields match everything. */
export interface StatusFilter {
  tenant: string;
  cluster: string;
  assignment: string;
}

export function statusKey(s: Pick<AssignmentStatus, 'cluster' | 'tenant' | 'assignment'>): string {
  return `${s.cluster}\u0000${s.tenant}\u0000${s.assignment}`;
}

export function matchesFilter(
  s: Pick<AssignmentStatus, 'cluster' | 'tenant' | 'assignment'>,
  f: StatusFilter,
): boolean {
  return (
    (!f.tenant || f.tenant === s.tenant) &&
    (!f.cluster || f.cluster === s.cluster) &&
    (!f.assignment || f.assignment === s.assignment)
  );
}

function pending(
  cluster: string,
  tenant: string,
  assignment: string,
  fields: Partial<AssignmentStatus>,
): AssignmentStatus {
  return {
    cluster,
    tenant,
    assignment,
    state: AssignmentState.ASSIGNMENT_STATE_PENDING,
    reason: Reason.Pending,
    message: '',
    desiredRevision: '',
    appliedRevision: '',
    observedGeneration: 0,
    changes: { created: 0, configured: 0, unchanged: 0, deleted: 0 },
    objects: 0,
    startedAtMs: 0,
    finishedAtMs: 0,
    conditions: [],
    notReady: [],
    pinned: false,
    nextRetryAtMs: 0,
    waitingFor: [],
    drifted: [],
    ...fields,
  };
}

/**
 * `unpublished`: clusters whose current desired set the hub did not publish (too large for the
 * bus, or another store owns the bus), with the reason and message for each of their assignments.
 */
export function buildStatusView(
  clusters: readonly ClusterIdentity[],
  snapshot: DesiredSnapshot,
  reported: readonly AssignmentStatus[],
  filter: StatusFilter,
  unpublished: ReadonlyMap<string, { reason: string; message: string }> = new Map(),
): AssignmentStatus[] {
  const reports = new Map(reported.filter((r) => matchesFilter(r, filter)).map((r) => [statusKey(r), r]));
  const out: AssignmentStatus[] = [];
  // assignments a rollback pinned: their desired revision is the pin, and their rows say so
  const pins = new Set(
    snapshot.assignments.filter((a) => a.pinnedRevision).map((a) => repoKey(a.tenant, a.name)),
  );
  for (const cluster of clusters) {
    if (filter.cluster && filter.cluster !== cluster.name) continue;
    const { set, unresolved } = computeDesiredSet(cluster, snapshot);
    for (const a of set.assignments) {
      const ids = { cluster: cluster.name, tenant: a.tenant, assignment: a.name };
      if (!matchesFilter(ids, filter)) continue;
      const key = statusKey(ids);
      const revision = a.source?.revision ?? '';
      const pinned = pins.has(repoKey(a.tenant, a.name));
      const report = reports.get(key);
      reports.delete(key);
      const notSent = unpublished.get(cluster.name);
      if (notSent !== undefined) {
        // the agent never got this set: say so, and keep what the agent reports as applied
        out.push(
          pending(cluster.name, a.tenant, a.name, {
            state: AssignmentState.ASSIGNMENT_STATE_FAILED,
            reason: notSent.reason,
            message: notSent.message,
            desiredRevision: revision,
            pinned,
            appliedRevision: report?.appliedRevision ?? '',
            observedGeneration: report?.observedGeneration ?? 0,
            objects: report?.objects ?? 0,
          }),
        );
        continue;
      }
      out.push(
        report
          ? { ...report, desiredRevision: revision, pinned }
          : pending(cluster.name, a.tenant, a.name, {
              desiredRevision: revision,
              pinned,
              message: a.suspend
                ? 'suspended; published to the cluster, no report from its agent yet'
                : `published to cluster ${JSON.stringify(cluster.name)}; waiting for its agent to report`,
            }),
      );
    }
    for (const { assignment: a, resolveError } of unresolved) {
      const ids = { cluster: cluster.name, tenant: a.tenant, assignment: a.name };
      if (!matchesFilter(ids, filter)) continue;
      const key = statusKey(ids);
      const report = reports.get(key);
      reports.delete(key);
      out.push(
        report ??
          pending(cluster.name, a.tenant, a.name, {
            reason: Reason.RevisionNotResolved,
            message:
              resolveError ||
              `waiting for repo ${JSON.stringify(repoKey(a.tenant, a.repo))} to resolve to a revision`,
          }),
      );
    }
  }
  // reports for pairs the hub does not want (any more)
  out.push(...reports.values());
  return out
    .map(withConditions)
    .sort((x, y) => cmp(x.tenant, y.tenant) || cmp(x.assignment, y.assignment) || cmp(x.cluster, y.cluster));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
