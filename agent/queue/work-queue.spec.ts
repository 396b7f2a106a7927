import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { deferred } from '../../lib/limit.js';
import { WorkQueue, type Outcome, type RunCause } from './work-queue.js';

/** A process function whose runs the test finishes by hand. */
function controlled() {
  const runs: Array<{ key: string; poll: boolean; done: (o: Outcome) => void }> = [];
  let active = 0;
  let maxActive = 0;
  const perKey = new Map<string, number>();
  let maxPerKey = 0;
  const process = async (key: string, cause: RunCause): Promise<Outcome> => {
    active++;
    maxActive = Math.max(maxActive, active);
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
    maxPerKey = Math.max(maxPerKey, perKey.get(key)!);
    const d = deferred<Outcome>();
    runs.push({ key, poll: cause.poll, done: d.resolve });
    const o = await d.promise;
    active--;
    perKey.set(key, perKey.get(key)! - 1);
    return o;
  };
  return { runs, process, stats: () => ({ maxActive, maxPerKey }) };
}

const flush = () => jest.advanceTimersByTimeAsync(0);

describe('WorkQueue', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('runs one reconcile per key at a time and coalesces adds made while it runs into one more run', async () => {
    const c = controlled();
    const q = new WorkQueue({ process: c.process, concurrency: 4, resyncMs: 60_000, random: () => 0 });
    q.add('t/a');
    await flush();
    expect(c.runs.map((r) => r.key)).toEqual(['t/a']);
    q.add('t/a');
    q.add('t/a');
    q.add('t/a');
    await flush();
    expect(c.runs).toHaveLength(1);
    c.runs[0].done('ok');
    await flush();
    expect(c.runs).toHaveLength(2); // exactly one more run for the three adds
    c.runs[1].done('ok');
    await flush();
    expect(c.runs).toHaveLength(2);
    expect(c.stats().maxPerKey).toBe(1);
    await q.stop();
  });

  it('bounds parallel work across keys', async () => {
    const c = controlled();
    const q = new WorkQueue({ process: c.process, concurrency: 2, resyncMs: 60_000 });
    for (const k of ['a', 'b', 'c', 'd']) q.add(k);
    await flush();
    expect(c.runs.map((r) => r.key)).toEqual(['a', 'b']);
    c.runs[0].done('forget');
    await flush();
    expect(c.runs.map((r) => r.key)).toEqual(['a', 'b', 'c']);
    c.runs[1].done('forget');
    c.runs[2].done('forget');
    await flush();
    c.runs[3].done('forget');
    await q.idle();
    expect(c.stats().maxActive).toBe(2);
    await q.stop();
  });

  it('requeues after the resync interval (with jitter) on success', async () => {
    const c = controlled();
    const q = new WorkQueue({
      process: c.process,
      concurrency: 1,
      resyncMs: 10_000,
      jitter: 0.1,
      random: () => 0.5,
    });
    q.add('k');
    await flush();
    c.runs[0].done('ok');
    await jest.advanceTimersByTimeAsync(10_499);
    expect(c.runs).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(c.runs).toHaveLength(2);
    c.runs[1].done('stalled'); // stalled: also at the resync interval, no backoff
    await jest.advanceTimersByTimeAsync(10_500);
    expect(c.runs).toHaveLength(3);
    c.runs[2].done('forget');
    await jest.advanceTimersByTimeAsync(100_000);
    expect(c.runs).toHaveLength(3);
    await q.stop();
  });

  it('retries failures with capped exponential backoff, and resets it after a success', async () => {
    const c = controlled();
    const q = new WorkQueue({
      process: c.process,
      concurrency: 1,
      resyncMs: 60_000,
      backoffBaseMs: 1000,
      backoffMaxMs: 4000,
      random: () => 0.5,
    });
    q.add('k');
    await flush();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      c.runs[i].done('retry');
      let waited = 0;
      while (c.runs.length === i + 1) {
        await jest.advanceTimersByTimeAsync(100);
        waited += 100;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([1000, 2000, 4000, 4000]);
    c.runs[4].done('ok');
    await jest.advanceTimersByTimeAsync(66_000);
    c.runs[5].done('retry');
    await jest.advanceTimersByTimeAsync(1000);
    expect(c.runs).toHaveLength(7); // back to the base delay
    c.runs[6].done('forget');
    await q.stop();
  });

  it('backoff math: base × 2^n, capped at backoffMaxMs and twice the resync, never below the base', () => {
    const q = new WorkQueue({
      process: () => Promise.resolve('ok' as const),
      concurrency: 1,
      resyncMs: 60_000,
      random: () => 0.5, // no jitter
    });
    // default base 1s; cap min(5 min, 2 × 60s) = 120s
    expect([0, 1, 2, 5, 6, 7, 40].map((n) => q.backoffMs(n))).toEqual([
      1000, 2000, 4000, 32_000, 64_000, 120_000, 120_000,
    ]);
    // a retry interval of 10s: 10, 20, 40, 80, then the cap
    expect([0, 1, 2, 3, 4].map((n) => q.backoffMs(n, 10_000))).toEqual([
      10_000, 20_000, 40_000, 80_000, 120_000,
    ]);
    // an interval above the cap is taken as given, and not doubled
    expect([0, 3].map((n) => q.backoffMs(n, 600_000))).toEqual([600_000, 600_000]);
    expect(q.retryDelayMs('t/none', 10_000)).toBe(10_000);
  });

  it('jitters retry delays by ±10%', () => {
    const make = (r: number) =>
      new WorkQueue({
        process: () => Promise.resolve('ok' as const),
        concurrency: 1,
        resyncMs: 60_000,
        random: () => r,
      });
    expect(make(0).retryDelayMs('k', 10_000)).toBe(9000);
    expect(make(0.999999).retryDelayMs('k', 10_000)).toBe(11_000);
  });

  it('runs a failed key again after the delay its process chose, counting the failure', async () => {
    const c = controlled();
    const q = new WorkQueue({ process: c.process, concurrency: 1, resyncMs: 60_000, random: () => 0.5 });
    q.add('k');
    await flush();
    expect(q.retryDelayMs('k', 5000)).toBe(5000);
    c.runs[0].done({ retryAfterMs: 5000 });
    await flush();
    expect(q.failureCount('k')).toBe(1);
    expect(q.retryDelayMs('k', 5000)).toBe(10_000); // the next one doubles
    await jest.advanceTimersByTimeAsync(4999);
    expect(c.runs).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(c.runs).toHaveLength(2);
    q.resetBackoff('k'); // a new revision: the base again
    expect(q.retryDelayMs('k', 5000)).toBe(5000);
    c.runs[1].done('ok');
    await flush();
    expect(q.failureCount('k')).toBe(0);
    await q.stop();
  });

  it('treats a thrown error as a retry and reports it', async () => {
    const errors: string[] = [];
    let calls = 0;
    const q = new WorkQueue({
      process: async () => {
        calls++;
        if (calls === 1) throw new Error('boom');
        return 'forget';
      },
      concurrency: 1,
      resyncMs: 60_000,
      backoffBaseMs: 500,
      random: () => 0.5,
      onError: (key, err) => errors.push(`${key}: ${(err as Error).message}`),
    });
    q.add('k');
    await jest.advanceTimersByTimeAsync(500);
    expect(calls).toBe(2);
    expect(errors).toEqual(['k: boom']);
    await q.stop();
  });

  it('an add runs a scheduled key now, and forget cancels it', async () => {
    const c = controlled();
    const q = new WorkQueue({ process: c.process, concurrency: 1, resyncMs: 60_000 });
    q.add('k');
    await flush();
    c.runs[0].done('ok');
    await flush();
    expect(q.has('k')).toBe(true);
    q.add('k');
    await flush();
    expect(c.runs).toHaveLength(2);
    c.runs[1].done('ok');
    await flush();
    q.forget('k');
    expect(q.has('k')).toBe(false);
    await jest.advanceTimersByTimeAsync(200_000);
    expect(c.runs).toHaveLength(2);
    await q.stop();
  });

  it('stop waits for runs in flight and schedules nothing more', async () => {
    const c = controlled();
    const q = new WorkQueue({ process: c.process, concurrency: 2, resyncMs: 1000 });
    q.add('a');
    await flush();
    let stopped = false;
    const s = q.stop().then(() => (stopped = true));
    await flush();
    expect(stopped).toBe(false);
    c.runs[0].done('ok');
    await s;
    expect(stopped).toBe(true);
    q.add('b');
    await jest.advanceTimersByTimeAsync(5000);
    expect(c.runs).toHaveLength(1);
  });

  it("tells a run brought back by the poll timer from any other: only a 'poll' requeue nothing else added", async () => {
    const c = controlled();
    const q = new WorkQueue({ process: c.process, concurrency: 1, resyncMs: 60_000, pollMs: 2000 });
    q.add('k');
    await flush();
    expect(c.runs[0].poll).toBe(false);
    c.runs[0].done('poll');
    await jest.advanceTimersByTimeAsync(2000);
    expect(c.runs[1].poll).toBe(true); // the poll timer's run
    c.runs[1].done('poll');
    await flush();
    q.add('k'); // e.g. a drift event or a new desired set before the timer fires
    await flush();
    expect(c.runs[2].poll).toBe(false);
    q.add('k'); // added while it runs: the run after it is not a poll either
    c.runs[2].done('poll');
    await flush();
    expect(c.runs[3].poll).toBe(false);
    c.runs[3].done('ok');
    await jest.advanceTimersByTimeAsync(70_000); // the resync
    expect(c.runs[4].poll).toBe(false);
    c.runs[4].done('poll');
    await flush();
    q.addAfter('k', 500); // a caller's own schedule replaces the poll's
    await jest.advanceTimersByTimeAsync(500);
    expect(c.runs[5].poll).toBe(false);
    c.runs[5].done('forget');
    await q.stop();
  });
});
