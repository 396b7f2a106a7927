// Status ingest: agents' StatusReport and Heartbeat messages from the status stream into the
// store. Ack after the write; nak with a delay when the store fails; unknown clusters and
// assignments are acked and ignored; undecodable messages are terminated.
import {
  Inject,
  Injectable,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Subject, type Subscription } from 'rxjs';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import {
  AssignmentState,
  Heartbeat,
  StatusReport,
  parseStatusSubject,
  type AssignmentStatus,
} from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import { retry, sleep } from '../../lib/backoff.js';
import { BusService, type BusConnection } from '../bus/bus.service.js';
import { HUB_CONFIG, HUB_LOGGER } from '../config/config.module.js';
import type { ResolvedHubConfig } from '../config/hub-config.js';
import {
  AssignmentHistoryRepository,
  isRecordableRevision,
} from '../assignments/assignment-history.repository.js';
import type { FleetEvent } from '../events/fleet-event.js';
import { FleetEventsService } from '../events/fleet-events.service.js';
import { StatusStreamRepository } from './status-stream.repository.js';
import { StatusRepository } from './status.repository.js';

export const NAK_DELAY_MS = 5000;

/** Characters of an agent's desired-set error the hub logs and keeps. */
export const MAX_DESIRED_SET_ERROR = 1000;

export type IngestOutcome = 'stored' | 'ignored' | 'invalid';

/**
 * The fleet event of a stored status whose state was `before` (pure): assignment.failed when it
 * turns Failed, assignment.recovered when it turns Ready after Failed; nothing otherwise.
 */
export function statusTransitionEvent(
  before: number | undefined,
  s: AssignmentStatus,
  atMs: number,
): FleetEvent | undefined {
  if (before === s.state) return undefined;
  const about = { tenant: s.tenant, assignment: s.assignment, cluster: s.cluster, atMs };
  const revision = s.desiredRevision || s.appliedRevision || undefined;
  if (s.state === AssignmentState.ASSIGNMENT_STATE_FAILED) {
    const why = [s.reason, s.message].filter(Boolean).join(': ');
    return {
      kind: 'assignment.failed',
      ...about,
      revision,
      severity: 'error',
      message: `${s.tenant}/${s.assignment} failed on cluster ${s.cluster}${why ? `: ${why}` : ''}`,
    };
  }
  if (
    s.state === AssignmentState.ASSIGNMENT_STATE_READY &&
    before === AssignmentState.ASSIGNMENT_STATE_FAILED
  ) {
    return {
      kind: 'assignment.recovered',
      ...about,
      revision: s.appliedRevision || revision,
      severity: 'info',
      message: `${s.tenant}/${s.assignment} recovered on cluster ${s.cluster}`,
    };
  }
  return undefined;
}

@Injectable()
export class StatusIngestService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: Logger;
  /** Clusters whose reported status changed. */
  readonly changed$ = new Subject<string[]>();
  private subscription: Subscription | undefined;
  private consuming: { conn: BusConnection; messages?: ConsumerMessages; done: Promise<void> } | undefined;
  private stopped = false;
  private readonly stopSignal = new AbortController();
  private checkTimer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(
    @Inject(StatusRepository) private readonly store: StatusRepository,
    @Inject(StatusStreamRepository) private readonly stream: StatusStreamRepository,
    @Inject(BusService) private readonly bus: BusService,
    @Inject(HUB_LOGGER) log: Logger,
    @Inject(HUB_CONFIG)
    private readonly config: Pick<ResolvedHubConfig, 'busCheckIntervalSeconds'> = {
      busCheckIntervalSeconds: 15,
    },
    @Inject(AssignmentHistoryRepository) private readonly history?: AssignmentHistoryRepository,
    @Optional() @Inject(FleetEventsService) private readonly events?: FleetEventsService,
  ) {
    this.log = log.child({ module: 'status-ingest' });
  }

  onApplicationBootstrap(): void {
    this.subscription = this.bus.connected$.subscribe((conn) => void this.onConnected(conn));
    this.scheduleCheck();
  }

  private scheduleCheck(): void {
    if (this.stopped) return;
    this.checkTimer = setTimeout(() => {
      this.checking = this.checkStream().finally(() => {
        this.checking = undefined;
        this.scheduleCheck();
      });
    }, this.config.busCheckIntervalSeconds * 1000);
    this.checkTimer.unref();
  }

  /**
   * Anyone allowed to manage JetStream may delete the status stream (and with it the hub's
   * consumer): recreate both and consume again, without waiting for a restart.
   */
  private async checkStream(): Promise<void> {
    const conn = this.bus.current;
    if (!conn || !this.bus.isOnline || this.stopped) return;
    try {
      if (!(await this.stream.ensure(conn))) return;
      this.log.warn('the status stream or the hub consumer was deleted; recreated, consuming again');
      const c = this.consuming;
      if (c?.conn === conn && c.messages) await c.messages.close().catch(() => undefined);
      else if (c?.conn !== conn) this.startConsuming(conn);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'cannot check the status stream; retrying later');
    }
  }

  private async onConnected(conn: BusConnection): Promise<void> {
    await retry(
      async () => {
        await this.stream.ensure(conn);
        if (this.consuming?.conn !== conn) this.startConsuming(conn);
      },
      {
        firstDelayMs: 500,
        maxDelayMs: 10_000,
        signal: this.stopSignal.signal,
        while: () => !this.stopped && !conn.nc.isClosed(),
        onError: (err, retryInMs) =>
          this.log.warn({ err: (err as Error).message, retryInMs }, 'cannot prepare the status stream'),
      },
    );
  }

  private startConsuming(conn: BusConnection): void {
    const state: { conn: BusConnection; messages?: ConsumerMessages; done: Promise<void> } = {
      conn,
      done: Promise.resolve(),
    };
    this.consuming = state;
    state.done = (async () => {
      while (!this.stopped && !conn.nc.isClosed() && this.consuming === state) {
        try {
          state.messages = await this.stream.consume(conn);
          if (this.stopped || this.consuming !== state) {
            // stopped (or replaced) while the consumer was being opened: nobody else closes it
            await state.messages.close().catch(() => undefined);
            return;
          }
          this.log.info('consuming the status stream');
          for await (const m of state.messages) await this.handle(m);
        } catch (err) {
          if (this.stopped || conn.nc.isClosed()) return;
          this.log.warn({ err: (err as Error).message }, 'status consumer stopped; restarting');
          await sleep(1000, this.stopSignal.signal);
          await this.stream.ensure(conn).catch(() => undefined);
        }
      }
    })();
  }

  /** Handles one message from the stream and acks, naks or terminates it. */
  async handle(m: Pick<JsMsg, 'subject' | 'data' | 'ack' | 'nak' | 'term'>): Promise<IngestOutcome> {
    let outcome: IngestOutcome;
    try {
      outcome = await this.ingest(m.subject, m.data);
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message, subject: m.subject },
        'cannot store status; redelivering later',
      );
      m.nak(NAK_DELAY_MS);
      return 'ignored';
    }
    if (outcome === 'invalid') m.term();
    else m.ack();
    return outcome;
  }

  /** Decodes and stores one status message. Throws only when the store fails. */
  async ingest(subject: string, data: Uint8Array): Promise<IngestOutcome> {
    const parsed = parseStatusSubject(subject);
    if (!parsed) {
      this.log.warn({ subject }, 'message on an unknown status subject; dropped');
      return 'invalid';
    }
    const { cluster, kind } = parsed;
    let decoded: StatusReport | Heartbeat;
    try {
      decoded = kind === 'heartbeat' ? Heartbeat.decode(data) : StatusReport.decode(data);
    } catch (err) {
      this.log.warn({ subject, err: (err as Error).message }, 'undecodable status message; dropped');
      return 'invalid';
    }
    if (!(await this.store.clusterExists(cluster))) {
      this.log.debug({ cluster, kind }, 'status from an unknown cluster; ignored');
      return 'ignored';
    }
    if (kind === 'heartbeat') {
      const hb = decoded as Heartbeat;
      if (hb.desiredSetError) {
        this.log.warn(
          { cluster, err: hb.desiredSetError.slice(0, MAX_DESIRED_SET_ERROR) },
          'the agent refused a desired set on its key; the last good one stays in effect there',
        );
      }
      await this.store.recordHeartbeat({
        cluster, // the subject names the cluster: an agent may publish only its own subjects
        agentVersion: hb.agentVersion,
        observedGeneration: hb.observedGeneration,
        atMs: hb.sentAtMs || Date.now(),
        // shown by `gitfleet cluster get`; an agent's text, so bounded like every status message
        desiredSetError: hb.desiredSetError.slice(0, MAX_DESIRED_SET_ERROR),
      });
      return 'stored';
    }
    const report = (decoded as StatusReport).status;
    if (!report) {
      this.log.warn({ subject }, 'status report without a status; dropped');
      return 'invalid';
    }
    const status: AssignmentStatus = { ...report, cluster };
    if (!(await this.store.assignmentExists(status.tenant, status.assignment))) {
      this.log.debug(
        { cluster, tenant: status.tenant, assignment: status.assignment },
        'status of an unknown assignment; ignored',
      );
      return 'ignored';
    }
    // one read of the state before, for the failed/recovered events (emitted only on a change)
    const before = this.events
      ? await this.store.stateOf(cluster, status.tenant, status.assignment)
      : undefined;
    const stored = await this.store.upsert(status, Date.now());
    const event = stored && this.events ? statusTransitionEvent(before, status, Date.now()) : undefined;
    if (event) this.events!.emit(event);
    // rollback's history: what this cluster runs (an agent's text: only a well-formed revision)
    if (isRecordableRevision(status.appliedRevision)) {
      await this.history?.recordApplied(
        status.tenant,
        status.assignment,
        cluster,
        status.appliedRevision,
        Date.now(),
      );
    }
    this.log.debug(
      {
        cluster,
        tenant: status.tenant,
        assignment: status.assignment,
        state: status.state,
        reason: status.reason,
      },
      'status stored',
    );
    this.changed$.next([cluster]);
    return 'stored';
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.checkTimer) clearTimeout(this.checkTimer);
    await this.checking;
    this.stopSignal.abort();
    this.subscription?.unsubscribe();
    const c = this.consuming;
    this.consuming = undefined;
    if (c?.messages) {
      await c.messages.close().catch(() => undefined);
      // the loop ends with the closed messages; bounded, in case it is opening a new consumer
      const bound = new AbortController();
      await Promise.race([c.done, sleep(5000, bound.signal)]);
      bound.abort();
    }
    // A consumer still being opened is not waited for (opening can wait on the bus for long): the
    // loop closes it once it opens, or ends when the bus connection closes after this.

    this.changed$.complete();
  }
}
