// The simulated agents: N DesiredSetWatchers from agent/ (the agent's own watcher) sharing a few
// NATS connections in this process, timing when each one sees a given desired set.
import { performance } from 'node:perf_hooks';
import type { NatsConnection } from '@nats-io/transport-node';
import { DesiredSetWatcher } from '../../../../agent/main.js';
import type { Progress } from '../../lib/progress.js';
import { fmtInt } from '../../lib/report.js';
import { distribution, type Distribution } from '../../lib/stats.js';
import { waitUntil, type Budget } from '../../lib/wait.js';

/** Errors by kind, as the watchers report them. */
export class ErrorTally {
  readonly byKind: Record<string, number> = {};
  total = 0;
  add(err: Error): void {
    const m = err.message;
    const kind = /timeout/i.test(m)
      ? 'timeout'
      : /no responders|503/i.test(m)
        ? 'no responders'
        : /disconnect|closed|connection/i.test(m)
          ? 'connection'
          : 'other';
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
    this.total++;
  }
}

/** The agent's watcher, timing its successful direct gets (to see re-reads after a reconnect). */
class TimedWatcher extends DesiredSetWatcher {
  lastFetchAt = NaN;

  override async fetchOnce(): ReturnType<DesiredSetWatcher['fetchOnce']> {
    const r = await super.fetchOnce();
    if (r === 'ok') this.lastFetchAt = performance.now();
    return r;
  }
}

/** A desired set being waited for: the first time each watcher sees an assignment at `path`. */
interface Arrival {
  path: string;
  t0: number;
  times: Float64Array;
  remaining: number;
}

export interface ArrivalResult {
  /** Time of the call that caused the change. */
  apiMs: number;
  dist: Distribution;
  missing: number;
}

export class SimulatedAgents {
  readonly errors = new ErrorTally();
  /** Watchers that have read their key at least once. */
  up = 0;
  private readonly watchers: TimedWatcher[];
  private arrival: Arrival | undefined;

  constructor(conns: NatsConnection[], names: string[]) {
    this.watchers = names.map((name, i) => {
      let first = true;
      return new TimedWatcher(conns[i % conns.length], name, {
        onDesired: (set) => {
          if (first) {
            first = false;
            this.up++;
          }
          const a = this.arrival;
          if (a && Number.isNaN(a.times[i]) && set.assignments.some((x) => x.path === a.path)) {
            a.times[i] = performance.now() - a.t0;
            a.remaining--;
          }
        },
        onError: (err) => this.errors.add(err),
      });
    });
  }

  get size(): number {
    return this.watchers.length;
  }

  start(): void {
    for (const w of this.watchers) w.start();
  }

  stop(): void {
    this.watchers.forEach((w) => w.stop());
  }

  /** Makes `call` and waits until every watcher has a desired set with an assignment at `path`. */
  async arrivalOf(
    label: string,
    path: string,
    call: () => Promise<unknown>,
    progress: Progress,
    budget: Budget,
  ): Promise<ArrivalResult> {
    const n = this.size;
    const a: Arrival = { path, t0: performance.now(), times: new Float64Array(n).fill(NaN), remaining: n };
    this.arrival = a;
    await call();
    const apiMs = performance.now() - a.t0;
    await waitUntil(label, () => a.remaining === 0, {
      timeoutMs: Math.max(120_000, Math.min(budget.remainingMs, 900_000)),
      budget,
      progress,
      describe: () => `${fmtInt(n - a.remaining)}/${fmtInt(n)} watchers have it`,
    });
    this.arrival = undefined;
    return { apiMs, dist: distribution(a.times), missing: a.remaining };
  }

  /** How many watchers read their key successfully after `t` (performance.now()). */
  readSince(t: number): number {
    return this.watchers.filter((w) => w.lastFetchAt > t).length;
  }

  /** The last successful read after `t`, or `t` when none. */
  lastReadAfter(t: number): number {
    let last = t;
    for (const w of this.watchers) if (w.lastFetchAt > last) last = w.lastFetchAt;
    return last;
  }
}
