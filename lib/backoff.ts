// Waiting between attempts: an abortable sleep and a retry loop with exponential backoff, for the
// loops that must keep trying (connecting to NATS, reading state at start) until they stop.

/** Resolves after `ms`, or at once when `signal` aborts (never rejects); clears its timer either way. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface RetryOptions {
  /** Wait after the first failure; doubled after each further one, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** Aborting stops the loop, also in the middle of a wait. */
  signal: AbortSignal;
  /** Keep trying only while this holds (checked before every attempt). */
  while?: () => boolean;
  /** Called with each failure and the wait before the next attempt (to log it). */
  onError(err: unknown, retryInMs: number): void;
}

/** Runs `attempt` until it succeeds; undefined when stopped (signal or `while`) before that. */
export async function retry<T>(attempt: () => Promise<T>, opts: RetryOptions): Promise<T | undefined> {
  let delay = opts.firstDelayMs;
  while (!opts.signal.aborted && (opts.while?.() ?? true)) {
    try {
      return await attempt();
    } catch (err) {
      opts.onError(err, delay);
      await sleep(delay, opts.signal);
      delay = Math.min(delay * 2, opts.maxDelayMs);
    }
  }
  return undefined;
}
