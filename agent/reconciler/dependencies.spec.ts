import { describe, expect, it } from '@jest/globals';
import {
  AssignmentState,
  DesiredAssignment,
  DesiredSet,
  Reason,
  type AssignmentStatus,
  type DeepPartial,
} from '../../proto/index.js';
import { dependencyWait, dependentsToWake } from './dependencies.js';

const REV = (c: string) => `main@sha1:${c.repeat(40)}`;
const da = (name: string, dependsOn: string[] = [], rev = REV('a')): DesiredAssignment =>
  DesiredAssignment.fromPartial({ tenant: 'team-a', name, dependsOn, source: { revision: rev } });
const set = (...assignments: DesiredAssignment[]) => DesiredSet.fromPartial({ cluster: 'c1', assignments });
const st = (name: string, fields: DeepPartial<AssignmentStatus>): AssignmentStatus =>
  ({
    cluster: 'c1',
    tenant: 'team-a',
    assignment: name,
    state: AssignmentState.ASSIGNMENT_STATE_READY,
    reason: Reason.ReconciliationSucceeded,
    message: 'applied',
    desiredRevision: REV('a'),
    ...fields,
  }) as AssignmentStatus;

describe('dependencyWait', () => {
  it('waits for nothing without dependencies, or when each is Ready at its pinned revision', () => {
    const s = set(da('db'), da('web', ['db']));
    expect(dependencyWait(s.assignments[0], s, () => undefined)).toBeUndefined();
    expect(dependencyWait(s.assignments[1], s, () => st('db', {}))).toBeUndefined();
  });

  it('says what it waits for and why, for each dependency', () => {
    const s = set(
      da('db', [], REV('b')),
      da('cache'),
      da('queue'),
      da('web', ['db', 'cache', 'queue', 'gone']),
    );
    const statuses: Record<string, AssignmentStatus> = {
      db: st('db', {}), // Ready, but at the revision before
      cache: st('cache', {
        state: AssignmentState.ASSIGNMENT_STATE_FAILED,
        reason: Reason.ApplyFailed,
        message: 'x'.repeat(500),
      }),
    };
    const w = dependencyWait(s.assignments[3], s, (_t, n) => statuses[n])!;
    expect(w.cycle).toBe(false);
    expect(w.waitingFor).toEqual(['team-a/db', 'team-a/cache', 'team-a/queue', 'team-a/gone']);
    expect(w.message).toBe(
      `waiting for team-a/db (not yet reconciled at revision main@sha1:${'b'.repeat(8)}); ` +
        `team-a/cache (ApplyFailed: ${'x'.repeat(160)}…); ` +
        'team-a/queue (no status on this cluster yet); team-a/gone (not assigned to this cluster)',
    );
  });

  it('reports a cycle in the desired set instead of waiting for ever', () => {
    const s = set(da('a', ['b']), da('b', ['a']), da('c', ['a']));
    const w = dependencyWait(s.assignments[0], s, () => undefined)!;
    expect(w).toEqual({
      cycle: true,
      waitingFor: ['team-a/b', 'team-a/a'],
      message:
        'dependency cycle team-a/a → team-a/b → team-a/a: none of them can be applied; fix depends_on on the hub',
    });
    // c only waits behind the cycle
    expect(dependencyWait(s.assignments[2], s, () => undefined)?.cycle).toBe(true);
  });
});

describe('dependentsToWake', () => {
  const s = set(da('db'), da('web', ['db']), da('api', ['db']), da('other'));
  const waiting = st('web', {
    state: AssignmentState.ASSIGNMENT_STATE_PENDING,
    reason: Reason.DependencyNotReady,
  });

  it('wakes the waiting dependents (and ones with no status yet) when the dependency changes', () => {
    const statuses: Record<string, AssignmentStatus> = { web: waiting, api: st('api', {}) };
    const ready = st('db', {});
    const progressing = st('db', {
      state: AssignmentState.ASSIGNMENT_STATE_PROGRESSING,
      reason: 'Progressing',
    });
    expect(dependentsToWake(ready, progressing, s, (_t, n) => statuses[n])).toEqual(['team-a/web']);
    expect(dependentsToWake(ready, progressing, s, () => undefined)).toEqual(['team-a/web', 'team-a/api']);
  });

  it('wakes nobody when the dependency reports the same again', () => {
    expect(dependentsToWake(st('db', {}), st('db', {}), s, () => waiting)).toEqual([]);
  });
});
