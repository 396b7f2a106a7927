// Order between assignments on this cluster (depends_on, as Flux's dependsOn): an assignment is
// applied only once every dependency is Ready here at the revision the desired set pins it to.
// Checked at the start of each pass (the reconciler's one call); when a dependency's status
// changes, its waiting dependents are woken at once (the agent's one call), not at the resync.
import {
  AssignmentState,
  findCycle,
  formatCycle,
  Reason,
  shortRevision,
  type AssignmentStatus,
  type DesiredAssignment,
  type DesiredSet,
} from '../../proto/index.js';

export interface DependencyWait {
  /** The dependencies not Ready ("tenant/name"). */
  waitingFor: string[];
  /** "waiting for team-a/db (Progressing: applying revision 1a2b3c4)" */
  message: string;
  /** The dependencies form a cycle: waiting cannot end until the hub's records change. */
  cycle: boolean;
}

export type StatusLookup = (tenant: string, name: string) => AssignmentStatus | undefined;

/** How much of a dependency's own message a dependent's message repeats. */
const DEPENDENCY_MESSAGE_MAX = 160;

function clip(message: string): string {
  return message.length <= DEPENDENCY_MESSAGE_MAX ? message : `${message.slice(0, DEPENDENCY_MESSAGE_MAX)}…`;
}

/** Why a dependency does not count as Ready yet, or undefined when it does. */
function notReady(
  dep: DesiredAssignment | undefined,
  status: AssignmentStatus | undefined,
): string | undefined {
  if (!dep) return 'not assigned to this cluster';
  if (!status) return 'no status on this cluster yet';
  const revision = dep.source?.revision ?? '';
  if (status.state === AssignmentState.ASSIGNMENT_STATE_READY) {
    // held for a maintenance window: Ready at the revision it ran before, not at this one
    if (status.desiredRevision === revision && status.reason !== Reason.MaintenanceWindow) return undefined;
    return `not yet reconciled at revision ${shortRevision(revision)}`;
  }
  return `${status.reason}: ${clip(status.message)}`;
}

/**
 * What `a` waits for on this cluster, or undefined when every dependency is Ready. A dependency
 * counts when its latest status here is Ready for the revision it is pinned to now; one that is
 * suspended, failed, progressing, not selected for this cluster, or has no status yet blocks.
 */
export function dependencyWait(
  a: DesiredAssignment,
  set: DesiredSet,
  statusOf: StatusLookup,
): DependencyWait | undefined {
  if (!a.dependsOn?.length) return undefined;
  const ofTenant = set.assignments.filter((x) => x.tenant === a.tenant);
  const cycle = findCycle(new Map(ofTenant.map((x) => [x.name, x.dependsOn ?? []])), a.name);
  if (cycle) {
    return {
      waitingFor: [...new Set(cycle.slice(1))].map((n) => `${a.tenant}/${n}`),
      message: `dependency cycle ${formatCycle(cycle.map((n) => `${a.tenant}/${n}`))}: none of them can be applied; fix depends_on on the hub`,
      cycle: true,
    };
  }
  const waiting: Array<{ key: string; why: string }> = [];
  for (const name of a.dependsOn) {
    const why = notReady(
      ofTenant.find((x) => x.name === name),
      statusOf(a.tenant, name),
    );
    if (why) waiting.push({ key: `${a.tenant}/${name}`, why });
  }
  if (waiting.length === 0) return undefined;
  return {
    waitingFor: waiting.map((w) => w.key),
    message: `waiting for ${waiting.map((w) => `${w.key} (${w.why})`).join('; ')}`,
    cycle: false,
  };
}

/**
 * The keys ("tenant/name") to reconcile now that `status` was reported: the assignments of the
 * desired set that depend on it and are waiting, when its state, reason or message changed (so a
 * dependent's message follows its dependency, and a cycle of waiting statuses settles).
 */
export function dependentsToWake(
  status: AssignmentStatus,
  before: AssignmentStatus | undefined,
  set: DesiredSet,
  statusOf: StatusLookup,
): string[] {
  if (
    before &&
    before.state === status.state &&
    before.reason === status.reason &&
    before.message === status.message &&
    before.desiredRevision === status.desiredRevision
  ) {
    return [];
  }
  return set.assignments
    .filter((a) => a.tenant === status.tenant && a.dependsOn?.includes(status.assignment))
    .filter((a) => {
      const last = statusOf(a.tenant, a.name);
      return !last || last.reason === Reason.DependencyNotReady;
    })
    .map((a) => `${a.tenant}/${a.name}`);
}
