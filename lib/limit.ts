// Bounded concurrency and the small promise helpers around it.

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}

/** A counting semaphore: at most `limit` of the functions given to run() at once, the rest wait in order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {
    if (limit < 1) throw new Error('semaphore limit must be at least 1');
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/**
 * A semaphore over a quantity (bytes in memory): acquire(n) waits, first come first served, until
 * n more fit under the capacity. A request larger than the capacity is cut to it, so it runs
 * alone rather than never. Strict order keeps a large request from starving behind small ones.
 */
export class WeightedSemaphore {
  private used = 0;
  private highest = 0;
  private readonly waiting: Array<{ n: number; grant: () => void }> = [];

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new Error('weighted semaphore capacity must be a positive integer');
    }
  }

  /** What the holders have now. */
  get inUse(): number {
    return this.used;
  }

  /** The most ever held at once (never above the capacity). */
  get peak(): number {
    return this.highest;
  }

  /** Requests waiting for room. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Takes `n` (cut to [0, capacity]) once it fits; resolves with the function that gives it back. */
  async acquire(n: number): Promise<() => void> {
    const weight = Math.min(this.capacity, Math.max(0, Math.ceil(n)));
    if (this.waiting.length === 0 && this.used + weight <= this.capacity) this.take(weight);
    else await new Promise<void>((grant) => this.waiting.push({ n: weight, grant }));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= weight;
      this.grantWaiting();
    };
  }

  async run<T>(n: number, fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire(n);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private take(weight: number): void {
    this.used += weight;
    this.highest = Math.max(this.highest, this.used);
  }

  /** Hands room to the waiting in order; taken here, before they resume, so nobody overtakes. */
  private grantWaiting(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0].n <= this.capacity) {
      const next = this.waiting.shift()!;
      this.take(next.n);
      next.grant();
    }
  }
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

/** A promise together with the functions that settle it. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Random delay in [0, maxMs): spreads timers so that many repos or clusters do not fire together. */
export function jitter(maxMs: number): number {
  return Math.floor(Math.random() * Math.max(0, maxMs));
}
