// A work queue serialized per key (client-go's workqueue, in small): one reconcile in flight per
// key and at most `concurrency` overall; a key added while it is being processed runs once more
// right after (any number of adds coalesce into that one run); failures retry with capped
// exponential backoff; successes requeue after the resync interval with jitter, so the loop stays
// level-triggered even when nothing announces a change.

export type Outcome =
  /** Done; run again after the resync interval. */
  | 'ok'
  /** Failed in a way that needs a new input; run again after the resync interval, no backoff. */
  | 'stalled'
  /** Failed; run again after a backoff. */
  | 'retry'
  /** Done for good (the key went away); do not requeue. */
  | 'forget'
  /** Still in progress (waiting for health): run again after the short poll interval, no backoff. */
  | 'poll'
  /** Failed; run again after exactly this delay (the caller took it from retryDelayMs). */
  | { retryAfterMs: number };

/** Why a run happens. */
export interface RunCause {
  /**
   * The key's previous run ended 'poll' and nothing added the key since: only the poll timer
   * brought it back (any add, addAfter or a run that was dirty clears it).
   */
  poll: boolean;
}

export interface WorkQueueOptions {
  process: (key: string, cause: RunCause) => Promise<Outcome>;
  concurrency: number;
  resyncMs: number;
  /** Fraction of resyncMs added at random to each requeue (default 0.1). */
  jitter?: number;
  /** First retry delay, doubled per failure (default 1 s; a key may have its own, see retryDelayMs). */
  backoffBaseMs?: number;
  /** Delay before a 'poll' outcome runs again (default 2000). */
  pollMs?: number;
  /** Cap of the retry delay (default 5 min; never above twice resyncMs, never below a key's base). */
  backoffMaxMs?: number;
  onError?: (key: string, err: unknown) => void;
  random?: () => number;
}

export class WorkQueue {
  private readonly ready: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  /** Keys whose next run is the poll timer's (see RunCause.poll). */
  private readonly polls = new Set<string>();
  private readonly inflight = new Set<Promise<void>>();
  private idleWaiters: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly opts: WorkQueueOptions) {}

  /** Runs the key as soon as a worker is free (or right after its current run). */
  add(key: string): void {
    this.polls.delete(key);
    this.enqueue(key);
  }

  private enqueue(key: string): void {
    if (this.stopped) return;
    this.clearTimer(key);
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (!this.queued.has(key)) {
      this.queued.add(key);
      this.ready.push(key);
    }
    this.pump();
  }

  /** Runs the key after `ms` unless it is added earlier. */
  addAfter(key: string, ms: number): void {
    this.polls.delete(key);
    this.schedule(key, ms);
  }

  private schedule(key: string, ms: number): void {
    if (this.stopped) return;
    this.clearTimer(key);
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.enqueue(key);
    }, ms);
    t.unref?.();
    this.timers.set(key, t);
  }

  /** Drops pending work and backoff state for a key (a run in flight finishes). */
  forget(key: string): void {
    this.clearTimer(key);
    this.polls.delete(key);
    this.failures.delete(key);
    this.dirty.delete(key);
    if (this.queued.delete(key)) {
      const i = this.ready.indexOf(key);
      if (i >= 0) this.ready.splice(i, 1);
    }
  }

  /** Whether a run of the key is in progress now. */
  isProcessing(key: string): boolean {
    return this.processing.has(key);
  }

  has(key: string): boolean {
    return this.queued.has(key) || this.processing.has(key) || this.timers.has(key);
  }

  get stats(): { ready: number; processing: number; scheduled: number } {
    return { ready: this.ready.length, processing: this.processing.size, scheduled: this.timers.size };
  }

  /** Resolves when nothing is ready or running (scheduled requeues do not count). */
  idle(): Promise<void> {
    if (this.ready.length === 0 && this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops scheduling and waits for runs in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.ready.length = 0;
    this.queued.clear();
    this.dirty.clear();
    this.polls.clear();
    await Promise.all([...this.inflight]);
  }

  /**
   * Backoff before retry number `n` (0-based), from `baseMs` (default backoffBaseMs), without
   * jitter: base × 2^n, capped at the smaller of backoffMaxMs and twice the resync interval, but
   * never below the base itself (a retry interval longer than the cap is taken as given).
   */
  backoffMs(n: number, baseMs?: number): number {
    const base = baseMs ?? this.opts.backoffBaseMs ?? 1000;
    const cap = Math.max(base, Math.min(this.opts.backoffMaxMs ?? 5 * 60_000, this.opts.resyncMs * 2));
    return Math.min(cap, base * 2 ** Math.min(n, 30));
  }

  /**
   * The delay before the next retry of `key` should its run in flight fail now: its backoff after
   * as many failures as it has had since its last success (or resetBackoff), ±10% jitter so that
   * keys failing together do not retry together.
   */
  retryDelayMs(key: string, baseMs?: number): number {
    const random = this.opts.random ?? Math.random;
    return Math.round(this.backoffMs(this.failures.get(key) ?? 0, baseMs) * (0.9 + 0.2 * random()));
  }

  /** Forgets the key's failures: its next failure waits the base again (a new revision, a new base). */
  resetBackoff(key: string): void {
    this.failures.delete(key);
  }

  /** Failures of the key since its last success. */
  failureCount(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  private clearTimer(key: string): void {
    const t = this.timers.get(key);
    if (t) {
      clearTimeout(t);
      this.timers.delete(key);
    }
  }

  private pump(): void {
    while (!this.stopped && this.processing.size < this.opts.concurrency && this.ready.length > 0) {
      const key = this.ready.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      const p = this.run(key, { poll: this.polls.delete(key) }).finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }
    if (this.ready.length === 0 && this.processing.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async run(key: string, cause: RunCause): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.opts.process(key, cause);
    } catch (err) {
      this.opts.onError?.(key, err);
      outcome = 'retry';
    }
    this.processing.delete(key);
    if (this.stopped) return this.pump();
    const failed = outcome === 'retry' || typeof outcome === 'object';
    if (this.dirty.delete(key)) {
      // a newer version arrived while this one ran: run once more now
      if (!failed) this.failures.delete(key);
      this.add(key);
      return;
    }
    const random = this.opts.random ?? Math.random;
    if (typeof outcome === 'object') {
      this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
      this.addAfter(key, Math.max(0, outcome.retryAfterMs));
      this.pump();
      return;
    }
    switch (outcome) {
      case 'ok':
      case 'stalled':
        this.failures.delete(key);
        this.addAfter(key, Math.round(this.opts.resyncMs * (1 + (this.opts.jitter ?? 0.1) * random())));
        break;
      case 'retry': {
        const delay = this.retryDelayMs(key);
        this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
        this.addAfter(key, delay);
        break;
      }
      case 'poll':
        this.failures.delete(key);
        this.schedule(key, this.opts.pollMs ?? 2000);
        this.polls.add(key);
        break;
      case 'forget':
        this.failures.delete(key);
        break;
    }
    this.pump();
  }
}
