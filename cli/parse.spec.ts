import { describe, expect, it } from '@jest/globals';
import { parseDuration, parseLabels } from './parse.js';

describe('parseDuration', () => {
  it.each([
    ['45', 45],
    ['30s', 30],
    ['5m', 300],
    ['1h30m', 5400],
    ['2h', 7200],
  ])('%s → %d s', (input, want) => expect(parseDuration(input)).toBe(want));

  it.each(['', 'abc', '5x', '1m junk', '-5s'])('rejects %j', (input) =>
    expect(() => parseDuration(input)).toThrow(/invalid duration/),
  );
});

describe('parseLabels', () => {
  it('merges repeated and comma-separated pairs', () => {
    expect(parseLabels(['env=prod,region=eu', 'tier=web'])).toEqual({
      env: 'prod',
      region: 'eu',
      tier: 'web',
    });
  });
  it('names the bad pair', () => {
    expect(() => parseLabels(['env'])).toThrow(/invalid label "env"/);
  });
});
