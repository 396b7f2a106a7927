import { describe, expect, it } from '@jest/globals';
import { AssignmentState, type AssignmentStatus, type Condition } from '../gen/gitfleet/v1/resources.js';
import { findCondition, statusConditions, withConditions, type StatusSummary } from './conditions.js';
import { ConditionStatus, ConditionType, Reason } from './reasons.js';

const { True, False, Unknown } = ConditionStatus;

function summary(state: AssignmentState, reason: Reason, message = ''): StatusSummary {
  return { state, reason, message, observedGeneration: 7 };
}

/** type → [status, reason], the way Flux tests assert conditions. */
function shape(conditions: readonly Condition[]): Record<string, [string, string]> {
  return Object.fromEntries(conditions.map((c) => [c.type, [c.status, c.reason]]));
}

describe('statusConditions', () => {
  const cases: Array<{
    name: string;
    summary: StatusSummary;
    stalled?: boolean;
    want: Record<string, [string, string]>;
  }> = [
    {
      name: 'success: Ready',
      summary: summary(AssignmentState.ASSIGNMENT_STATE_READY, Reason.ReconciliationSucceeded),
      want: { Ready: [True, Reason.ReconciliationSucceeded] },
    },
    {
      name: 'failure to retry: not Ready, not Stalled',
      summary: summary(AssignmentState.ASSIGNMENT_STATE_FAILED, Reason.ApplyFailed),
      want: { Ready: [False, Reason.ApplyFailed] },
    },
    {
      name: 'terminal failure: Stalled, not Reconciling',
      summary: summary(AssignmentState.ASSIGNMENT_STATE_FAILED, Reason.BuildFailed),
      stalled: true,
      want: { Ready: [False, Reason.BuildFailed], Stalled: [True, Reason.BuildFailed] },
    },
    {
      name: 'a new revision being applied: Reconciling',
      summary: summary(AssignmentState.ASSIGNMENT_STATE_PROGRESSING, Reason.Progressing),
      want: { Ready: [Unknown, Reason.Progressing], Reconciling: [True, Reason.Progressing] },
    },
    {
      name: 'pending on the hub: nothing known yet',
      summary: summary(AssignmentState.ASSIGNMENT_STATE_PENDING, Reason.Pending),
      want: { Ready: [Unknown, Reason.Pending] },
    },
    {
      name: 'suspended with no history: nothing known',
      summary: summary(AssignmentState.ASSIGNMENT_STATE_SUSPENDED, Reason.Suspended),
      want: { Ready: [Unknown, Reason.Suspended] },
    },
    {
      name: 'deleted: nothing is applied',
      summary: summary(AssignmentState.ASSIGNMENT_STATE_UNSPECIFIED, Reason.Deleted),
      want: { Ready: [False, Reason.Deleted] },
    },
  ];

  it.each(cases)('$name', ({ summary: s, stalled, want }) => {
    const conditions = statusConditions(s, { nowMs: 100, stalled });
    expect(shape(conditions)).toEqual(want);
    for (const c of conditions) {
      expect(c.observedGeneration).toBe(7);
      expect(c.lastTransitionTimeMs).toBe(100);
    }
  });

  it('carries the message of the summary', () => {
    const [ready] = statusConditions(
      summary(AssignmentState.ASSIGNMENT_STATE_FAILED, Reason.ApplyFailed, 'apply ConfigMap a/b: forbidden'),
      { nowMs: 1 },
    );
    expect(ready.message).toBe('apply ConfigMap a/b: forbidden');
  });

  it('keeps the transition time while a status stays and moves it when it flips', () => {
    const first = statusConditions(
      summary(AssignmentState.ASSIGNMENT_STATE_READY, Reason.ReconciliationSucceeded, 'rev 1'),
      { nowMs: 100 },
    );
    const again = statusConditions(
      summary(AssignmentState.ASSIGNMENT_STATE_READY, Reason.ReconciliationSucceeded, 'rev 2'),
      { nowMs: 200, previous: first },
    );
    expect(findCondition(again, ConditionType.Ready)).toMatchObject({
      status: True,
      message: 'rev 2',
      lastTransitionTimeMs: 100,
    });

    const failed = statusConditions(summary(AssignmentState.ASSIGNMENT_STATE_FAILED, Reason.ApplyFailed), {
      nowMs: 300,
      previous: again,
    });
    expect(findCondition(failed, ConditionType.Ready)).toMatchObject({
      status: False,
      lastTransitionTimeMs: 300,
    });

    // a new reason with the same status is no transition
    const stillFailing = statusConditions(
      summary(AssignmentState.ASSIGNMENT_STATE_FAILED, Reason.PruneFailed),
      {
        nowMs: 400,
        previous: failed,
      },
    );
    expect(findCondition(stillFailing, ConditionType.Ready)).toMatchObject({
      reason: Reason.PruneFailed,
      lastTransitionTimeMs: 300,
    });
  });

  it('leaves the conditions of a suspended assignment as they were (Flux)', () => {
    const ready = statusConditions(
      summary(AssignmentState.ASSIGNMENT_STATE_READY, Reason.ReconciliationSucceeded),
      { nowMs: 100 },
    );
    const suspended = statusConditions(
      summary(AssignmentState.ASSIGNMENT_STATE_SUSPENDED, Reason.Suspended),
      {
        nowMs: 200,
        previous: ready,
      },
    );
    expect(suspended).toEqual(ready);
  });

  it('drops Reconciling once the pass is done', () => {
    const progressing = statusConditions(
      summary(AssignmentState.ASSIGNMENT_STATE_PROGRESSING, Reason.Progressing),
      { nowMs: 100 },
    );
    const done = statusConditions(
      summary(AssignmentState.ASSIGNMENT_STATE_READY, Reason.ReconciliationSucceeded),
      { nowMs: 200, previous: progressing },
    );
    expect(shape(done)).toEqual({ Ready: [True, Reason.ReconciliationSucceeded] });
    expect(findCondition(done, ConditionType.Ready)?.lastTransitionTimeMs).toBe(200);
  });
});

describe('withConditions', () => {
  const base: AssignmentStatus = {
    cluster: 'c1',
    tenant: 'team-a',
    assignment: 'web',
    pinned: false,
    state: AssignmentState.ASSIGNMENT_STATE_READY,
    reason: Reason.ReconciliationSucceeded,
    message: 'applied',
    desiredRevision: '',
    appliedRevision: '',
    observedGeneration: 3,
    changes: undefined,
    objects: 0,
    startedAtMs: 10,
    finishedAtMs: 20,
    notReady: [],
    conditions: [],
    nextRetryAtMs: 0,
    waitingFor: [],
    drifted: [],
  };

  it('derives conditions for a status without any, at the time of the report', () => {
    const s = withConditions(base);
    expect(shape(s.conditions)).toEqual({ Ready: [True, Reason.ReconciliationSucceeded] });
    expect(s.conditions[0].lastTransitionTimeMs).toBe(20);
  });

  it('keeps conditions that are there', () => {
    const reported = { ...base, conditions: statusConditions(base, { nowMs: 5 }) };
    expect(withConditions(reported)).toBe(reported);
  });
});
