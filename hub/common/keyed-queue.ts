// A work queue that serializes per key: at most one run in flight per key. A request that
// arrives while a run is in flight is coalesced into exactly one follow-up run, so the caller
// sees a result computed after its request without runs piling up.
import { deferred, type Deferred } from '../../lib/limit.js';

interface KeyState {
  next?: Deferred<void>;
  nextFn?: () => Promise<void>;
}

export class KeyedQueue {
  private readonly keys = new Map<string, KeyState>();

  /** True while a run for `key` is in flight. */
  busy(key: string): boolean {
    return this.keys.has(key);
  }

  /** Number of keys with a run in flight. */
  get size(): number {
    return this.keys.size;
  }

  /**
   * Runs `fn` for `key` now, or once after the run in flight (later requests replace `fn`).
   * Resolves when the run that covers this request has finished.
   */
  run(key: string, fn: () => Promise<void>): Promise<void> {
    const state = this.keys.get(key);
    if (!state) return this.start(key, fn);
    state.next ??= deferred<void>();
    state.nextFn = fn;
    return state.next.promise;
  }

  private start(key: string, fn: () => Promise<void>): Promise<void> {
    const state: KeyState = {};
    this.keys.set(key, state);
    return (async () => {
      try {
        await fn();
      } finally {
        this.keys.delete(key);
        const { next, nextFn } = state;
        if (next && nextFn) this.start(key, nextFn).then(next.resolve, next.reject);
      }
    })();
  }
}
