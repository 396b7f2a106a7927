import { describe, expect, it } from '@jest/globals';
import { AssignmentState, AssignmentStatus, Reason } from '../../proto/index.js';
import { createLogger } from '../../lib/log.js';
import type { KubeClient } from '../kube/kube-client.js';
import { EventRecorder, eventName, eventOf } from './event-recorder.js';

/** A KubeClient keeping applied objects in memory, counting applies. */
function memoryClient() {
  const objects = new Map<string, Record<string, unknown>>();
  let applies = 0;
  const client = {
    get: async (ref: { kind: string; name: string }) => objects.get(`${ref.kind}/${ref.name}`),
    apply: async (obj: { kind: string; metadata: { name: string } }) => {
      applies++;
      objects.set(`${obj.kind}/${obj.metadata.name}`, obj as never);
      return obj;
    },
  } as unknown as KubeClient;
  return { client, objects, applies: () => applies };
}

const failed = AssignmentStatus.fromPartial({
  tenant: 'team-a',
  assignment: 'web',
  state: AssignmentState.ASSIGNMENT_STATE_FAILED,
  reason: Reason.BuildFailed,
  message: 'apps/x.yaml: missing metadata.name',
});

describe('eventOf', () => {
  it('records failures, passes that changed something, and removals; nothing else', () => {
    expect(eventOf(failed)).toMatchObject({ type: 'Warning', reason: 'BuildFailed' });
    const ready = {
      ...failed,
      state: AssignmentState.ASSIGNMENT_STATE_READY,
      reason: 'ReconciliationSucceeded',
    };
    expect(
      eventOf({ ...ready, changes: { created: 0, configured: 0, unchanged: 3, deleted: 0 } }),
    ).toBeUndefined();
    expect(
      eventOf({ ...ready, changes: { created: 0, configured: 0, unchanged: 2, deleted: 1 } }),
    ).toMatchObject({
      type: 'Normal',
    });
    expect(eventOf({ ...failed, state: AssignmentState.ASSIGNMENT_STATE_PROGRESSING })).toBeUndefined();
    expect(eventOf({ ...failed, state: 0, reason: Reason.Deleted })).toMatchObject({ type: 'Normal' });
  });

  it('names an event after its inventory and what it says, within 253 characters', () => {
    const e = eventOf(failed)!;
    expect(eventName(e)).toMatch(/^gitfleet-inventory\.team-a\.web\.[0-9a-f]{16}$/);
    expect(eventName({ ...e, message: 'other' })).not.toBe(eventName(e));
    expect(
      eventName({ ...e, assignment: 'a'.repeat(63), tenant: 'b'.repeat(63) }).length,
    ).toBeLessThanOrEqual(253);
  });
});

describe('EventRecorder', () => {
  it('writes a repeated event once per interval, its count growing, and continues a count after a restart', async () => {
    const m = memoryClient();
    let now = 1_000_000;
    const make = () =>
      new EventRecorder({
        client: m.client,
        namespace: 'gitfleet-system',
        instance: 'edge-1',
        log: createLogger('test', 'silent'),
        minIntervalMs: 60_000,
        now: () => now,
      });
    const r = make();
    const flush = () => new Promise((resolve) => setImmediate(resolve));
    r.recordStatus(failed);
    await flush();
    for (let i = 0; i < 5; i++) {
      now += 1000;
      r.recordStatus(failed);
      await flush();
    }
    expect(m.applies()).toBe(1);
    const [event] = [...m.objects.values()] as Array<Record<string, unknown>>;
    expect(event).toMatchObject({
      type: 'Warning',
      reason: 'BuildFailed',
      count: 1,
      involvedObject: {
        kind: 'ConfigMap',
        namespace: 'gitfleet-system',
        name: 'gitfleet-inventory.team-a.web',
      },
      reportingComponent: 'gitfleet-agent',
    });
    now += 60_000;
    r.recordStatus(failed);
    await flush();
    await flush();
    expect(m.applies()).toBe(2);
    expect([...m.objects.values()][0]).toMatchObject({ count: 7 });
    r.stop();

    const again = make();
    again.recordStatus(failed);
    await flush();
    await flush();
    expect([...m.objects.values()][0]).toMatchObject({ count: 8 });
    again.stop();
  });
});
