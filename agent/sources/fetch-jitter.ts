// No thundering herd: when a new revision reaches many clusters at once, each agent waits a
// uniform random time in [0, jitter) before fetching it, so the git host or registry sees the
// fetches spread over that time instead of all in the same instant. Only fetches that reach the
// network wait (a revision not in the cache); every pass that wants the same revision shares one
// delay, so one assignment's wait never adds to another's.
import { sleep } from '../../lib/backoff.js';

/** The default spread (`--fetch-jitter`): small enough that one cluster barely notices it. */
export const DEFAULT_FETCH_JITTER_MS = 2000;
/** The longest spread accepted: beyond it a new revision would take too long to arrive. */
export const MAX_FETCH_JITTER_MS = 10 * 60_000;
/** Revisions whose delay is remembered after it ended (later passes for them do not wait again). */
const REMEMBERED = 1024;

export interface FetchJitterOptions {
  /** The spread; 0 disables the delay. */
  jitterMs: number;
  /** Uniform in [0, 1) (default Math.random). */
  random?: () => number;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** The agent is stopping: a fetch that was still waiting does not start. */
export class FetchJitterStopped extends Error {
  override readonly name = 'FetchJitterStopped';
  constructor() {
    super('the agent is stopping: the fetch did not start');
  }
}

export class FetchJitter {
  /** Per revision: when its fetch may start, and the wait for that moment. */
  private readonly waits = new Map<string, { untilMs: number; done: Promise<void> }>();
  private readonly stopping = new AbortController();

  constructor(private readonly opts: FetchJitterOptions) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /**
   * Resolves when the fetch of `revision` (a key naming source and revision) may start: at once
   * with no spread, or when it was released already; else after its random delay. `onDelay` is
   * told how long is left, when anything is. Rejects with FetchJitterStopped after stop().
   */
  async wait(revision: string, onDelay?: (leftMs: number) => void): Promise<void> {
    if (this.stopping.signal.aborted) throw new FetchJitterStopped();
    if (this.opts.jitterMs <= 0) return;
    let w = this.waits.get(revision);
    if (!w) {
      const delay = Math.floor((this.opts.random ?? Math.random)() * this.opts.jitterMs);
      w = { untilMs: this.now() + delay, done: (this.opts.sleep ?? sleep)(delay, this.stopping.signal) };
      this.waits.set(revision, w);
      if (this.waits.size > REMEMBERED) this.waits.delete(this.waits.keys().next().value!);
    }
    const left = w.untilMs - this.now();
    if (left > 0) onDelay?.(left);
    await w.done;
    if (this.stopping.signal.aborted) throw new FetchJitterStopped();
  }

  /** Ends every wait at once (they reject): the agent is stopping. */
  stop(): void {
    this.stopping.abort();
  }
}
