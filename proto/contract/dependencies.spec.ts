import { describe, expect, it } from '@jest/globals';
import { findCycle, formatCycle } from './dependencies.js';
import { checkDependsOn, checkRetryInterval, MAX_DEPENDS_ON, ValidationError } from './validation.js';

const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges));

describe('findCycle', () => {
  it('finds none in a chain or a diamond', () => {
    expect(findCycle(graph({ a: ['b'], b: ['c'], c: [] }), 'a')).toBeUndefined();
    expect(findCycle(graph({ a: ['b', 'c'], b: ['d'], c: ['d'], d: [] }), 'a')).toBeUndefined();
  });

  it('names the cycle from where it closes', () => {
    expect(findCycle(graph({ a: ['b'], b: ['a'] }), 'a')).toEqual(['a', 'b', 'a']);
    expect(formatCycle(findCycle(graph({ a: ['b'], b: ['c'], c: ['a'] }), 'a')!)).toBe('a → b → c → a');
  });

  it('finds a self-dependency, and a cycle further down that does not pass through the start', () => {
    expect(findCycle(graph({ a: ['a'] }), 'a')).toEqual(['a', 'a']);
    expect(findCycle(graph({ a: ['b'], b: ['c'], c: ['b'] }), 'a')).toEqual(['b', 'c', 'b']);
  });

  it('treats names missing from the graph as leaves', () => {
    expect(findCycle(graph({ a: ['gone'] }), 'a')).toBeUndefined();
  });

  it('walks long chains without recursion, and closes a 10,000-long cycle', () => {
    const n = 10_000;
    const edges: Record<string, string[]> = {};
    for (let i = 0; i < n; i++) edges[`a${i}`] = i + 1 < n ? [`a${i + 1}`] : [];
    expect(findCycle(graph(edges), 'a0')).toBeUndefined();
    edges[`a${n - 1}`] = ['a0'];
    const cycle = findCycle(graph(edges), 'a0')!;
    expect(cycle).toHaveLength(n + 1);
    expect([cycle[0], cycle[n - 1], cycle[n]]).toEqual(['a0', `a${n - 1}`, 'a0']);
  });

  it('visits each node once in a dense acyclic graph', () => {
    // every node depends on every later one: exponential without memoizing finished nodes
    const n = 300;
    const edges: Record<string, string[]> = {};
    for (let i = 0; i < n; i++) edges[`n${i}`] = Array.from({ length: n - i - 1 }, (_, j) => `n${i + j + 1}`);
    const t = Date.now();
    expect(findCycle(graph(edges), 'n0')).toBeUndefined();
    expect(Date.now() - t).toBeLessThan(2000);
  });
});

describe('checkDependsOn', () => {
  const err = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      return (e as Error).message;
    }
    throw new Error('no error');
  };

  it('keeps names once, in order', () => {
    expect(checkDependsOn('f', ['db', 'cache', 'db'], 'web')).toEqual(['db', 'cache']);
    expect(checkDependsOn('f', undefined, 'web')).toEqual([]);
  });

  it('refuses the assignment itself, another tenant, bad names and too many', () => {
    expect(err(() => checkDependsOn('a.depends_on', ['web'], 'web'))).toBe(
      'a.depends_on[0]: "web" is the assignment itself',
    );
    expect(err(() => checkDependsOn('a.depends_on', ['db', 'team-b/db'], 'web'))).toMatch(
      /^a\.depends_on\[1\]: "team-b\/db": dependencies are assignments of the same tenant/,
    );
    expect(err(() => checkDependsOn('a.depends_on', ['DB'], 'web'))).toMatch(
      /^a\.depends_on\[0\]: "DB" is not a valid name/,
    );
    expect(err(() => checkDependsOn('a.depends_on', [''], 'web'))).toBe('a.depends_on[0]: required');
    expect(err(() => checkDependsOn('a.depends_on', ['x'.repeat(10_000)], 'web'))).toMatch(
      /\(10000 characters\)/,
    );
    const many = Array.from({ length: MAX_DEPENDS_ON + 1 }, (_, i) => `d${i}`);
    expect(err(() => checkDependsOn('a.depends_on', many, 'web'))).toBe(
      `a.depends_on: ${MAX_DEPENDS_ON + 1} dependencies (at most ${MAX_DEPENDS_ON})`,
    );
  });
});

describe('checkRetryInterval', () => {
  it('takes 0 (the default) up to a day, in whole seconds', () => {
    expect(checkRetryInterval('f', undefined)).toBe(0);
    expect(checkRetryInterval('f', 30)).toBe(30);
    expect(checkRetryInterval('f', 86_400)).toBe(86_400);
  });

  it.each([-1, 1.5, 86_401, Number.NaN, 2 ** 60])('refuses %p', (s) => {
    expect(() => checkRetryInterval('a.retry_interval_seconds', s)).toThrow(
      /^a\.retry_interval_seconds: .* is not a whole number of seconds between 0/,
    );
  });
});
