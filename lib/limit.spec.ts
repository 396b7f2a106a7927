import { describe, expect, it } from '@jest/globals';
import { deferred, mapLimit, Semaphore, WeightedSemaphore } from './limit.js';

describe('mapLimit', () => {
  it('keeps at most `limit` calls in flight and returns results in input order', async () => {
    let active = 0;
    let peak = 0;
    const out = await mapLimit([30, 10, 20, 0, 5], 2, async (ms, i) => {
      peak = Math.max(peak, ++active);
      await new Promise((r) => setTimeout(r, ms));
      active--;
      return i * 10;
    });
    expect(out).toEqual([0, 10, 20, 30, 40]);
    expect(peak).toBe(2);
  });

  it('handles no items', async () => {
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
  });
});

describe('Semaphore', () => {
  it('lets the waiting run in order as others finish', async () => {
    const sem = new Semaphore(1);
    const gate = deferred();
    const order: string[] = [];
    const first = sem.run(async () => {
      await gate.promise;
      order.push('first');
    });
    const second = sem.run(async () => void order.push('second'));
    await Promise.resolve();
    expect(order).toEqual([]);
    gate.resolve();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
  });
});

describe('WeightedSemaphore', () => {
  it('never holds more than its capacity, and serves the waiting in order', async () => {
    const sem = new WeightedSemaphore(10);
    const order: number[] = [];
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const runs = [6, 6, 3, 1].map((n, i) =>
      sem.run(n, async () => {
        order.push(i);
        expect(sem.inUse).toBeLessThanOrEqual(10);
        await gates[i].promise;
      }),
    );
    await Promise.resolve();
    // 6 holds; the second 6 does not fit, and the small ones behind it wait their turn
    expect(order).toEqual([0]);
    expect(sem.queued).toBe(3);
    gates[0].resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(order).toEqual([0, 1, 2, 3]);
    for (const g of gates) g.resolve();
    await Promise.all(runs);
    expect(sem.peak).toBe(10);
    expect(sem.inUse).toBe(0);
  });

  it('cuts a request larger than the capacity to it: it runs alone instead of never', async () => {
    const sem = new WeightedSemaphore(4);
    const release = await sem.acquire(100);
    expect(sem.inUse).toBe(4);
    let second = false;
    const waiting = sem.acquire(1).then((r) => {
      second = true;
      return r;
    });
    await Promise.resolve();
    expect(second).toBe(false);
    release();
    release(); // giving back twice gives back once
    (await waiting)();
    expect(sem.inUse).toBe(0);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new WeightedSemaphore(0)).toThrow(/positive integer/);
    expect(() => new WeightedSemaphore(1.5)).toThrow(/positive integer/);
  });
});
