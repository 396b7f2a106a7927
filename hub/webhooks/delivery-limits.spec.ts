import { describe, expect, it } from '@jest/globals';
import { RecentKeys, TokenBucket } from './delivery-limits.js';

describe('TokenBucket', () => {
  it('allows a burst of its capacity, then one per refill period', () => {
    let now = 0;
    const bucket = new TokenBucket(3, 0.5, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    expect(bucket.retryAfterSeconds()).toBe(2);
    now += 1000;
    expect(bucket.take()).toBe(false);
    now += 1000;
    expect(bucket.take()).toBe(true);
    now += 3_600_000; // never more than its capacity
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  });
});

describe('RecentKeys', () => {
  it('remembers keys for a while and at most max of them', () => {
    let now = 0;
    const keys = new RecentKeys(1000, 2, () => now);
    keys.add('a');
    expect(keys.has('a')).toBe(true);
    expect(keys.has('b')).toBe(false);
    now = 1001;
    expect(keys.has('a')).toBe(false);
    keys.add('a');
    keys.add('b');
    keys.add('c');
    expect([keys.has('a'), keys.has('b'), keys.has('c')]).toEqual([false, true, true]);
  });
});
