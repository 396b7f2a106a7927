import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  AssignmentState,
  ConditionStatus,
  ConditionType,
  Heartbeat,
  Reason,
  StatusReport,
  assignmentStatusSubject,
  heartbeatSubject,
  type AssignmentStatus,
} from '../../proto/index.js';
import { createLogger } from '../../lib/log.js';
import type { BusService } from '../bus/bus.service.js';
import type { FleetEvent } from '../events/fleet-event.js';
import { FleetEventsService } from '../events/fleet-events.service.js';
import {
  MAX_DESIRED_SET_ERROR,
  NAK_DELAY_MS,
  StatusIngestService,
  statusTransitionEvent,
} from './status-ingest.service.js';
import type { StatusStreamRepository } from './status-stream.repository.js';
import type { HeartbeatRecord, StatusRepository } from './status.repository.js';

class FakeStatusStore {
  clusters = new Set(['c1']);
  assignments = new Set(['team-a/web']);
  statuses: AssignmentStatus[] = [];
  heartbeats: HeartbeatRecord[] = [];
  broken = false;
  async clusterExists(name: string): Promise<boolean> {
    if (this.broken) throw new Error('SQLITE_BUSY');
    return this.clusters.has(name);
  }
  async assignmentExists(tenant: string, name: string): Promise<boolean> {
    return this.assignments.has(`${tenant}/${name}`);
  }
  async stateOf(cluster: string, tenant: string, assignment: string): Promise<number | undefined> {
    return [...this.statuses]
      .reverse()
      .find((s) => s.cluster === cluster && s.tenant === tenant && s.assignment === assignment)?.state;
  }
  async upsert(s: AssignmentStatus): Promise<boolean> {
    this.statuses.push(s);
    return true;
  }
  async recordHeartbeat(h: HeartbeatRecord): Promise<boolean> {
    this.heartbeats.push(h);
    return true;
  }
}

function msg(subject: string, data: Uint8Array) {
  const m = {
    subject,
    data,
    acked: false,
    naked: undefined as number | undefined,
    termed: false,
    ack: () => void (m.acked = true),
    nak: (delay?: number) => void (m.naked = delay),
    term: () => void (m.termed = true),
  };
  return m;
}

const status = (fields: Partial<AssignmentStatus> = {}): AssignmentStatus => ({
  cluster: 'c1',
  tenant: 'team-a',
  assignment: 'web',
  pinned: false,
  state: AssignmentState.ASSIGNMENT_STATE_READY,
  reason: 'ReconciliationSucceeded',
  message: '',
  desiredRevision: '',
  appliedRevision: '',
  observedGeneration: 1,
  changes: undefined,
  objects: 1,
  startedAtMs: 0,
  finishedAtMs: 0,
  conditions: [],
  notReady: [],
  nextRetryAtMs: 0,
  waitingFor: [],
  drifted: [],
  ...fields,
});

describe('StatusIngestService', () => {
  let store: FakeStatusStore;
  let ingest: StatusIngestService;

  beforeEach(() => {
    store = new FakeStatusStore();
    ingest = new StatusIngestService(
      store as unknown as StatusRepository,
      {} as StatusStreamRepository,
      {} as BusService,
      createLogger('test', 'silent'),
    );
  });

  it('stores a report and acks it after the write, announcing the cluster', async () => {
    const changed: string[][] = [];
    ingest.changed$.subscribe((c) => changed.push(c));
    const m = msg(assignmentStatusSubject('c1'), StatusReport.encode({ status: status() }).finish());
    expect(await ingest.handle(m)).toBe('stored');
    expect(m.acked).toBe(true);
    expect(store.statuses).toHaveLength(1);
    expect(changed).toEqual([['c1']]);
  });

  it('stores the conditions the agent reported', async () => {
    const ready = {
      type: ConditionType.Ready,
      status: ConditionStatus.True,
      reason: Reason.ReconciliationSucceeded,
      message: 'applied',
      observedGeneration: 1,
      lastTransitionTimeMs: 1234,
    };
    const m = msg(
      assignmentStatusSubject('c1'),
      StatusReport.encode({ status: status({ conditions: [ready] }) }).finish(),
    );
    await ingest.handle(m);
    expect(store.statuses[0].conditions).toEqual([ready]);
  });

  it('takes the cluster from the subject, not from the payload', async () => {
    const m = msg(
      assignmentStatusSubject('c1'),
      StatusReport.encode({ status: status({ cluster: 'c9' }) }).finish(),
    );
    await ingest.handle(m);
    expect(store.statuses[0].cluster).toBe('c1');
  });

  it('records heartbeats', async () => {
    const hb = Heartbeat.encode(
      Heartbeat.fromPartial({
        cluster: 'c1',
        agentVersion: '0.1.0',
        observedGeneration: 7,
        sentAtMs: 1234,
      }),
    ).finish();
    const m = msg(heartbeatSubject('c1'), hb);
    expect(await ingest.handle(m)).toBe('stored');
    expect(store.heartbeats).toEqual([
      { cluster: 'c1', agentVersion: '0.1.0', observedGeneration: 7, atMs: 1234, desiredSetError: '' },
    ]);
    expect(m.acked).toBe(true);
  });

  it("keeps a bounded copy of the agent's reason for refusing a desired set", async () => {
    const hb = Heartbeat.encode(
      Heartbeat.fromPartial({
        cluster: 'c1',
        sentAtMs: 1,
        desiredSetError: `refused: ${'x'.repeat(100_000)}`,
      }),
    ).finish();
    expect(await ingest.handle(msg(heartbeatSubject('c1'), hb))).toBe('stored');
    const kept = store.heartbeats.at(-1)!.desiredSetError;
    expect(kept.startsWith('refused: x')).toBe(true);
    expect(kept.length).toBe(MAX_DESIRED_SET_ERROR);
  });

  it('acks and ignores unknown clusters and assignments', async () => {
    const unknownCluster = msg(
      assignmentStatusSubject('c2'),
      StatusReport.encode({ status: status() }).finish(),
    );
    const unknownAssignment = msg(
      assignmentStatusSubject('c1'),
      StatusReport.encode({ status: status({ assignment: 'nope' }) }).finish(),
    );
    expect(await ingest.handle(unknownCluster)).toBe('ignored');
    expect(await ingest.handle(unknownAssignment)).toBe('ignored');
    expect(unknownCluster.acked && unknownAssignment.acked).toBe(true);
    expect(store.statuses).toHaveLength(0);
  });

  it('terminates messages it can never process', async () => {
    const garbage = msg(assignmentStatusSubject('c1'), new Uint8Array([0xff, 0xff, 0xff]));
    const empty = msg(assignmentStatusSubject('c1'), StatusReport.encode({ status: undefined }).finish());
    const badSubject = msg('gitfleet.status.c1.other', new Uint8Array());
    for (const m of [garbage, empty, badSubject]) {
      expect(await ingest.handle(m)).toBe('invalid');
      expect(m.termed).toBe(true);
    }
  });

  it('naks with a delay when the store fails', async () => {
    store.broken = true;
    const m = msg(assignmentStatusSubject('c1'), StatusReport.encode({ status: status() }).finish());
    await ingest.handle(m);
    expect(m.acked).toBe(false);
    expect(m.naked).toBe(NAK_DELAY_MS);
  });

  describe('fleet events', () => {
    const FAILED = AssignmentState.ASSIGNMENT_STATE_FAILED;
    const READY = AssignmentState.ASSIGNMENT_STATE_READY;
    const PROGRESSING = AssignmentState.ASSIGNMENT_STATE_PROGRESSING;

    it('emits assignment.failed when a state turns Failed and recovered when it turns Ready after', async () => {
      const events = new FleetEventsService(createLogger('test', 'silent'));
      const seen: FleetEvent[] = [];
      events.events$.subscribe((e) => seen.push(e));
      ingest = new StatusIngestService(
        store as unknown as StatusRepository,
        {} as StatusStreamRepository,
        {} as BusService,
        createLogger('test', 'silent'),
        undefined,
        undefined,
        events,
      );
      const send = (state: AssignmentState, fields: Partial<AssignmentStatus> = {}) =>
        ingest.handle(
          msg(
            assignmentStatusSubject('c1'),
            StatusReport.encode({ status: status({ state, ...fields }) }).finish(),
          ),
        );
      await send(READY);
      await send(PROGRESSING);
      await send(FAILED, {
        reason: 'ApplyFailed',
        message: 'cm.yaml: bad',
        desiredRevision: 'main@sha1:abc',
      });
      await send(FAILED, { reason: 'ApplyFailed', message: 'cm.yaml: bad' }); // still Failed: no event
      await send(READY, { appliedRevision: 'main@sha1:abc' });
      await send(READY);
      expect(
        seen.map((e) => [e.kind, e.severity, e.tenant, e.assignment, e.cluster, e.revision, e.message]),
      ).toEqual([
        [
          'assignment.failed',
          'error',
          'team-a',
          'web',
          'c1',
          'main@sha1:abc',
          'team-a/web failed on cluster c1: ApplyFailed: cm.yaml: bad',
        ],
        [
          'assignment.recovered',
          'info',
          'team-a',
          'web',
          'c1',
          'main@sha1:abc',
          'team-a/web recovered on cluster c1',
        ],
      ]);
    });

    it('statusTransitionEvent: Ready without a failure before, or a first Ready, is no event', () => {
      expect(statusTransitionEvent(undefined, status({ state: READY }), 1)).toBeUndefined();
      expect(statusTransitionEvent(PROGRESSING, status({ state: READY }), 1)).toBeUndefined();
      expect(statusTransitionEvent(undefined, status({ state: FAILED }), 1)?.kind).toBe('assignment.failed');
      expect(statusTransitionEvent(FAILED, status({ state: FAILED }), 1)).toBeUndefined();
    });
  });
});
