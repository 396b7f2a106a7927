// Simulated agents that do what the hub's rollout driver waits for: each watches its cluster's
// desired set with the agent's own DesiredSetWatcher, "applies" every assignment's revision after
// a fixed apply time, and reports it Ready on the status stream (JetStream, as the agent's
// StatusPublisher does), heartbeating meanwhile so the hub sees the cluster Online. Times when
// each cluster reported a revision Ready, for the scenario's measurements.
import { performance } from 'node:perf_hooks';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { DesiredSetWatcher } from '../../../../agent/main.js';
import {
  AssignmentState,
  Heartbeat,
  StatusReport,
  assignmentStatusSubject,
  heartbeatSubject,
  type DesiredSet,
} from '../../../../proto/index.js';

export interface ReportingAgentsOptions {
  /** How long one "apply" takes before the Ready report (default 100 ms). */
  applyMs?: number;
  /** Heartbeat interval (default 10 s). */
  heartbeatMs?: number;
}

export class ReportingAgents {
  private readonly watchers: DesiredSetWatcher[];
  private readonly js: JetStreamClient[];
  /** performance.now() when cluster i first reported `revision` Ready, by revision. */
  private readonly readyAt = new Map<string, Float64Array>();
  /** The revision each cluster last reported, by "cluster/tenant/assignment". */
  private readonly reported = new Map<string, string>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  reports = 0;
  errors = 0;
  /** Clusters that have read their key at least once. */
  up = 0;

  constructor(
    private readonly conns: NatsConnection[],
    readonly names: string[],
    private readonly opts: ReportingAgentsOptions = {},
  ) {
    this.js = conns.map((nc) => jetstream(nc));
    this.watchers = names.map((name, i) => {
      let first = true;
      let latest: DesiredSet | undefined;
      return new DesiredSetWatcher(conns[i % conns.length], name, {
        onDesired: (set) => {
          if (first) {
            first = false;
            this.up++;
          }
          latest = set;
          // the apply takes a while; a newer set arriving meanwhile is the one reported
          setTimeout(() => {
            if (latest === set && !this.stopped) void this.report(i, set);
          }, this.opts.applyMs ?? 100);
        },
        onError: () => this.errors++,
      });
    });
  }

  start(): void {
    for (const w of this.watchers) w.start();
    const beat = () => {
      const now = Date.now();
      this.names.forEach((cluster, i) => {
        const nc = this.conns[i % this.conns.length];
        nc.publish(
          heartbeatSubject(cluster),
          Heartbeat.encode({
            cluster,
            agentVersion: 'bench',
            observedGeneration: 0,
            sentAtMs: now,
            desiredSetError: '',
          }).finish(),
        );
      });
    };
    beat();
    this.heartbeatTimer = setInterval(beat, this.opts.heartbeatMs ?? 10_000);
  }

  stop(): void {
    this.stopped = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    for (const w of this.watchers) w.stop();
  }

  /** How many clusters have reported `revision` Ready. */
  readyCount(revision: string): number {
    const times = this.readyAt.get(revision);
    return times ? times.filter((t) => !Number.isNaN(t)).length : 0;
  }

  /** performance.now() of each cluster's first Ready report of `revision` (NaN: none yet). */
  readyTimes(revision: string): Float64Array {
    return this.readyAt.get(revision) ?? new Float64Array(this.names.length).fill(NaN);
  }

  private async report(i: number, set: DesiredSet): Promise<void> {
    const cluster = this.names[i];
    const js = this.js[i % this.js.length];
    for (const a of set.assignments) {
      const revision = a.source?.revision ?? '';
      const key = `${cluster}/${a.tenant}/${a.name}`;
      if (this.reported.get(key) === revision) continue;
      const now = Date.now();
      try {
        await js.publish(
          assignmentStatusSubject(cluster),
          StatusReport.encode({
            status: {
              cluster,
              tenant: a.tenant,
              assignment: a.name,
              state: AssignmentState.ASSIGNMENT_STATE_READY,
              reason: 'ReconciliationSucceeded',
              message: `applied revision ${revision}`,
              desiredRevision: revision,
              appliedRevision: revision,
              observedGeneration: set.generation,
              changes: undefined,
              objects: 1,
              startedAtMs: now - (this.opts.applyMs ?? 100),
              finishedAtMs: now,
              conditions: [],
              drifted: [],
              nextRetryAtMs: 0,
              waitingFor: [],
              notReady: [],
              pinned: false,
            },
          }).finish(),
          { msgID: `${key}/${revision}/${now}` },
        );
      } catch {
        this.errors++;
        continue;
      }
      this.reported.set(key, revision);
      this.reports++;
      let times = this.readyAt.get(revision);
      if (!times) this.readyAt.set(revision, (times = new Float64Array(this.names.length).fill(NaN)));
      if (Number.isNaN(times[i])) times[i] = performance.now();
    }
  }
}
