// Waiting without sleeping blindly: polls with a timeout, a progress line and an optional time
// budget; bounded concurrency for bulk API calls.
import type { Progress } from './progress.js';
import { mapLimit } from '../../../lib/limit.js';

export class BudgetExceeded extends Error {
  override readonly name = 'BudgetExceeded';
}

/** Thrown by a wait's check to stop waiting at once (e.g. the process waited for exited). */
export class WaitAborted extends Error {
  override readonly name = 'WaitAborted';
}

/** A time budget for a scenario size that may not finish on a small machine. */
export class Budget {
  readonly deadline: number;

  constructor(readonly ms: number) {
    this.deadline = Date.now() + ms;
  }

  get remainingMs(): number {
    return Math.max(0, this.deadline - Date.now());
  }

  /** Throws BudgetExceeded naming the phase when the budget is spent. */
  check(phase: string): void {
    if (Date.now() > this.deadline)
      throw new BudgetExceeded(`time budget of ${Math.round(this.ms / 1000)} s spent during ${phase}`);
  }
}

/**
 * Polls `done` every `intervalMs` until it is true; `describe` feeds the progress line. Rejects
 * with a message naming the phase after `timeoutMs` or when the budget is spent.
 */
export async function waitUntil(phase: string, done: () => boolean, opts: WaitOptions): Promise<void> {
  return waitUntilAsync(phase, done, opts);
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  progress?: Progress;
  describe?: () => string;
  budget?: Budget;
}

/** waitUntil with an asynchronous check (errors count as "not yet"; the last one is reported). */
export async function waitUntilAsync(
  phase: string,
  done: () => boolean | Promise<boolean>,
  opts: WaitOptions,
): Promise<void> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  let lastError: Error | undefined;
  for (;;) {
    try {
      if (await done()) return;
    } catch (err) {
      if (err instanceof WaitAborted) throw err;
      lastError = err as Error;
    }
    const now = Date.now();
    if (opts.budget && now > opts.budget.deadline) {
      throw new BudgetExceeded(
        `time budget spent while waiting for ${phase}${opts.describe ? ` (${opts.describe()})` : ''}`,
      );
    }
    if (now > deadline) {
      throw new Error(
        `${phase}: not done after ${Math.round(opts.timeoutMs / 1000)} s${opts.describe ? ` (${opts.describe()})` : ''}${lastError ? `; last error: ${lastError.message}` : ''}`,
      );
    }
    if (opts.progress && opts.describe)
      opts.progress.update(`${phase}: ${opts.describe()} (${((now - started) / 1000).toFixed(0)} s)`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

/** Runs `fn` over `items` with at most `limit` in flight (lib's mapLimit); `onDone` after each. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<void>,
  onDone?: (done: number) => void,
  budget?: Budget,
  phase = 'work',
): Promise<void> {
  let done = 0;
  await mapLimit(items, limit, async (item, i) => {
    budget?.check(phase);
    await fn(item, i);
    onDone?.(++done);
  });
}
