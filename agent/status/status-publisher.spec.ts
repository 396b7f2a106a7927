import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { JetStreamClient } from '@nats-io/jetstream';
import { AssignmentState, StatusReport, type AssignmentStatus } from '../../proto/index.js';
import { createLogger } from '../../lib/log.js';
import { StatusPublisher } from './status-publisher.js';

const status = (assignment: string, finishedAtMs: number): AssignmentStatus =>
  StatusReport.fromPartial({
    status: {
      cluster: 'c1',
      tenant: 't',
      assignment,
      state: AssignmentState.ASSIGNMENT_STATE_READY,
      finishedAtMs,
    },
  }).status!;

/** A JetStream client whose publishes fail while `down`. */
function fakeJs() {
  const sent: Array<{ subject: string; status: AssignmentStatus; msgID?: string }> = [];
  const js = {
    down: false,
    async publish(subject: string, data: Uint8Array, opts?: { msgID?: string }) {
      if (js.down) throw new Error('no responders');
      sent.push({ subject, status: StatusReport.decode(data).status!, msgID: opts?.msgID });
      return { seq: sent.length };
    },
  };
  return { js, sent, client: js as unknown as JetStreamClient };
}

describe('StatusPublisher', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('publishes to the cluster subject with a msgID', async () => {
    const { client, sent } = fakeJs();
    const p = new StatusPublisher({ cluster: 'c1', log: createLogger('agent', 'silent') });
    p.attach(client);
    p.report(status('web', 1));
    await p.kick();
    expect(sent).toEqual([
      {
        subject: 'gitfleet.status.c1.assignment',
        status: status('web', 1),
        msgID: expect.stringContaining('c1/t/web/'),
      },
    ]);
    expect(p.backlog).toBe(0);
    await p.stop();
  });

  it('keeps only the latest status per assignment while the bus is down, and resends it', async () => {
    jest.useFakeTimers();
    const { js, client, sent } = fakeJs();
    const p = new StatusPublisher({ cluster: 'c1', log: createLogger('agent', 'silent'), retryMinMs: 100 });
    js.down = true;
    p.attach(client);
    p.report(status('web', 1));
    p.report(status('web', 2));
    p.report(status('api', 3));
    await jest.advanceTimersByTimeAsync(0);
    expect(p.backlog).toBe(2);
    expect(sent).toEqual([]);
    js.down = false;
    await jest.advanceTimersByTimeAsync(1000);
    expect(sent.map((s) => `${s.status.assignment}@${s.status.finishedAtMs}`).sort()).toEqual([
      'api@3',
      'web@2',
    ]);
    expect(p.backlog).toBe(0);
    await p.stop();
  });

  it('does not block reporting without a connection', () => {
    const p = new StatusPublisher({ cluster: 'c1', log: createLogger('agent', 'silent') });
    p.report(status('web', 1));
    expect(p.backlog).toBe(1);
  });
});
