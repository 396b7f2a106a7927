// Conditions as data (Flux, kstatus): derived from a status's summary — state, reason, message,
// generation — by one pure function that the agent and the hub both call, so a condition means
// the same wherever the status was made. Ready is always set; Reconciling and Stalled are
// "abnormal-true": present only while True.
import { AssignmentState, type AssignmentStatus, type Condition } from '../gen/gitfleet/v1/resources.js';
import { ConditionStatus, ConditionType, Reason } from './reasons.js';

export interface ConditionContext {
  /** When this status is made: the transition time of a condition whose status changed. */
  nowMs: number;
  /** The failure is terminal (the reconciler's `stalled` outcome): retrying cannot fix it. */
  stalled?: boolean;
  /** Conditions of the assignment's previous status: unchanged statuses keep their transition time. */
  previous?: readonly Condition[];
}

export type StatusSummary = Pick<AssignmentStatus, 'state' | 'reason' | 'message' | 'observedGeneration'>;

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: ConditionType,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** The conditions of a status with this summary. */
export function statusConditions(s: StatusSummary, ctx: ConditionContext): Condition[] {
  // Flux leaves the conditions of a suspended object as they were: they still describe what
  // is applied. With none to keep, say only that nothing is known.
  if (s.state === AssignmentState.ASSIGNMENT_STATE_SUSPENDED && ctx.previous?.length) {
    return ctx.previous.map((c) => ({ ...c }));
  }
  const set = (type: ConditionType, status: ConditionStatus): Condition => {
    const before = findCondition(ctx.previous, type);
    return {
      type,
      status,
      reason: s.reason,
      message: s.message,
      observedGeneration: s.observedGeneration,
      lastTransitionTimeMs: before && before.status === status ? before.lastTransitionTimeMs : ctx.nowMs,
    };
  };
  switch (s.state) {
    case AssignmentState.ASSIGNMENT_STATE_READY:
      return [set(ConditionType.Ready, ConditionStatus.True)];
    case AssignmentState.ASSIGNMENT_STATE_FAILED:
      return ctx.stalled
        ? [set(ConditionType.Ready, ConditionStatus.False), set(ConditionType.Stalled, ConditionStatus.True)]
        : [set(ConditionType.Ready, ConditionStatus.False)];
    case AssignmentState.ASSIGNMENT_STATE_PROGRESSING:
      return [
        set(ConditionType.Ready, ConditionStatus.Unknown),
        set(ConditionType.Reconciling, ConditionStatus.True),
      ];
    default:
      // Pending, Suspended with no history; Deleted: nothing is applied any more
      return [
        set(
          ConditionType.Ready,
          s.reason === Reason.Deleted ? ConditionStatus.False : ConditionStatus.Unknown,
        ),
      ];
  }
}

/**
 * The status with its conditions; derived from the summary when it has none (a report from an
 * agent older than conditions, a row stored before them), so the API never returns it empty.
 * Their transition time is the report's own time: nothing older is known.
 */
export function withConditions(s: AssignmentStatus): AssignmentStatus {
  if (s.conditions?.length) return s;
  return { ...s, conditions: statusConditions(s, { nowMs: s.finishedAtMs || s.startedAtMs }) };
}
