import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { fuzzParams } from '../test/fuzz/fuzz-params.js';
import {
  parseByteSize,
  parseCount,
  parseDuration,
  parseGroupVars,
  parseLabels,
  parseSelectorFlag,
  parseVars,
} from './parse.js';

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

describe('parseLabels (fuzz)', () => {
  it('returns own string keys and values, or throws a short error naming the bad part', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ maxLength: 200 }), fc.constant('__proto__=x')), { maxLength: 4 }),
        (flags) => {
          try {
            const labels = parseLabels(flags);
            for (const [k, v] of Object.entries(labels))
              expect([typeof k, typeof v]).toEqual(['string', 'string']);
            expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
          } catch (err) {
            expect((err as Error).message).toMatch(/^invalid label .*: use key=value$/s);
            expect((err as Error).message.length).toBeLessThan(200);
          }
        },
      ),
      fuzzParams(200),
    );
  });

  it('keeps "__proto__" as a key, for the hub to refuse by name', () => {
    expect(Object.keys(parseLabels(['__proto__=x']))).toEqual(['__proto__']);
  });
});

describe('parseByteSize', () => {
  it.each([
    ['1048576', 1048576],
    ['512Ki', 512 * 1024],
    ['64Mi', 64 * 1024 * 1024],
    ['1Gi', 1024 ** 3],
    ['2M', 2_000_000],
  ])('%s → %d bytes', (input, want) => expect(parseByteSize(input)).toBe(want));

  it.each(['', '0', '-1', '1.5Mi', '10Ti', 'lots', '99999999999999999999'])('rejects %j', (input) =>
    expect(() => parseByteSize(input)).toThrow(/invalid size/),
  );
});

describe('parseCount', () => {
  it('takes positive whole numbers and names the flag otherwise', () => {
    expect(parseCount('--max-files', '20')).toBe(20);
    expect(() => parseCount('--max-files', '0')).toThrow(/invalid --max-files "0"/);
    expect(() => parseCount('--max-files', '2k')).toThrow(/invalid --max-files/);
  });
});

describe('parseVars', () => {
  it('keeps everything after the first "=" as given: commas, spaces, "=" and ${...}', () => {
    expect(parseVars(['a=1,2', 'b= x = y ', 'c=', 'd=${e}'])).toEqual({
      a: '1,2',
      b: ' x = y ',
      c: '',
      d: '${e}',
    });
    expect(parseVars(undefined)).toEqual({});
    expect(Object.keys(parseVars(['__proto__=x']))).toEqual(['__proto__']);
  });

  it.each([
    [['noequals'], 'invalid --var "noequals": use name=value'],
    [['=x'], 'invalid --var "=x": use name=value'],
    [['a=1', 'a=2'], '--var "a" is given twice'],
  ])('refuses %j', (flags, message) => {
    expect(() => parseVars(flags)).toThrow(message);
  });
});

describe('parseSelectorFlag and parseGroupVars', () => {
  it('splits kubectl selector text into match labels and expressions', () => {
    expect(parseSelectorFlag('env in (prod,staging),tier!=gold,!canary,region,team=a')).toEqual({
      selector: { team: 'a' },
      matchExpressions: [
        { key: 'canary', operator: 'DoesNotExist', values: [] },
        { key: 'env', operator: 'In', values: ['prod', 'staging'] },
        { key: 'region', operator: 'Exists', values: [] },
        { key: 'tier', operator: 'NotIn', values: ['gold'] },
      ],
    });
    expect(parseSelectorFlag('')).toEqual({ selector: {}, matchExpressions: [] });
    expect(parseSelectorFlag(undefined)).toEqual({ selector: {}, matchExpressions: [] });
  });

  it.each([
    ['env in prod', /--selector: expected "\(" after in\/notin/],
    ['env in (prod', /--selector: /],
    ['env ~ prod', /--selector: /],
    ['a\u0000b', /--selector: must not contain control characters/],
  ])('refuses %j naming the flag', (text, message) => {
    expect(() => parseSelectorFlag(text)).toThrow(message);
  });

  it('groups --group-var by group and refuses malformed ones', () => {
    expect(parseGroupVars(['eu:a=1', 'us:a=2', 'eu:b=x=y'])).toEqual([
      { group: 'eu', vars: { a: '1', b: 'x=y' } },
      { group: 'us', vars: { a: '2' } },
    ]);
    expect(() => parseGroupVars(['a=1'])).toThrow(/invalid --group-var "a=1": use GROUP:name=value/);
    expect(() => parseGroupVars(['eu:=1'])).toThrow(/use GROUP:name=value/);
    expect(() => parseGroupVars(['eu:a=1', 'eu:a=2'])).toThrow(/--group-var eu: --var "a" is given twice/);
  });
});
