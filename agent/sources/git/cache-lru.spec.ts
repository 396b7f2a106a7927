import { describe, expect, it } from '@jest/globals';
import { lruEvictions, type CacheEntry } from './cache-lru.js';

const entry = (path: string, bytes: number, lastUsedMs: number, pinned = false): CacheEntry => ({
  path,
  bytes,
  lastUsedMs,
  pinned,
});

describe('lruEvictions', () => {
  it('evicts nothing within the budget', () => {
    expect(lruEvictions([entry('a', 10, 1), entry('b', 10, 2)], 20)).toEqual([]);
  });

  it('evicts the least recently used first, only as many as needed', () => {
    const out = lruEvictions([entry('new', 40, 300), entry('old', 40, 100), entry('mid', 40, 200)], 80);
    expect(out.map((e) => e.path)).toEqual(['old']);
    const two = lruEvictions([entry('new', 40, 300), entry('old', 40, 100), entry('mid', 40, 200)], 50);
    expect(two.map((e) => e.path)).toEqual(['old', 'mid']);
  });

  it('never evicts a pinned entry, even when the cache stays over budget', () => {
    const out = lruEvictions(
      [entry('in-use', 100, 1, true), entry('idle', 10, 2), entry('now', 10, 3, true)],
      50,
    );
    expect(out.map((e) => e.path)).toEqual(['idle']);
  });

  it('evicts everything unpinned when the budget is 0', () => {
    const out = lruEvictions([entry('a', 1, 2), entry('b', 1, 1), entry('c', 1, 3, true)], 0);
    expect(out.map((e) => e.path)).toEqual(['b', 'a']);
  });
});
