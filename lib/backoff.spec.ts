import { describe, expect, it } from '@jest/globals';
import { retry, sleep } from './backoff.js';

describe('sleep', () => {
  it('ends at once when aborted', async () => {
    const stop = new AbortController();
    const started = Date.now();
    const slept = sleep(60_000, stop.signal);
    stop.abort();
    await slept;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('retry', () => {
  it('waits longer after each failure, up to the maximum, until an attempt succeeds', async () => {
    const waits: number[] = [];
    let attempts = 0;
    const result = await retry(
      async () => {
        if (++attempts < 5) throw new Error(`no ${attempts}`);
        return 'ok';
      },
      {
        firstDelayMs: 1,
        maxDelayMs: 4,
        signal: new AbortController().signal,
        onError: (_, ms) => waits.push(ms),
      },
    );
    expect(result).toBe('ok');
    expect(waits).toEqual([1, 2, 4, 4]);
  });

  it('stops when aborted during a wait, and when `while` no longer holds', async () => {
    const stop = new AbortController();
    const aborted = await retry(() => Promise.reject(new Error('down')), {
      firstDelayMs: 60_000,
      maxDelayMs: 60_000,
      signal: stop.signal,
      onError: () => stop.abort(),
    });
    expect(aborted).toBeUndefined();

    let attempts = 0;
    const ended = await retry(() => Promise.reject(new Error(`down ${++attempts}`)), {
      firstDelayMs: 1,
      maxDelayMs: 1,
      signal: new AbortController().signal,
      while: () => attempts < 3,
      onError: () => undefined,
    });
    expect(ended).toBeUndefined();
    expect(attempts).toBe(3);
  });
});
