import { describe, expect, it } from '@jest/globals';
import { deferred, mapLimit, Semaphore } from './limit.js';

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
