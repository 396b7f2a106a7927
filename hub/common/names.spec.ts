import { describe, expect, it } from '@jest/globals';
import { ValidationError } from './errors.js';
import { checkDnsLabel, checkLabels, hasControlChars, labelKeyProblem, labelValueProblem } from './names.js';

describe('checkDnsLabel', () => {
  it.each(['a', 'team-a', 'a1', '0abc', 'x'.repeat(63)])('accepts %j', (name) => {
    expect(checkDnsLabel('f', name)).toBe(name);
  });

  it.each(['', 'A', 'team_a', '-a', 'a-', 'a.b', 'x'.repeat(64), 'ü'])(
    'rejects %j naming the field',
    (name) => {
      expect(() => checkDnsLabel('tenant.name', name)).toThrow(ValidationError);
      expect(() => checkDnsLabel('tenant.name', name)).toThrow(/^tenant\.name: /);
    },
  );
});

describe('label keys and values', () => {
  it.each(['env', 'app.kubernetes.io/name', 'example.com/tier', 'A_b.c-d'])('accepts key %j', (key) => {
    expect(labelKeyProblem(key)).toBeUndefined();
  });

  it.each(['', '/x', 'Example.com/x', 'a/', 'bad key', '-x', 'x'.repeat(64)])('rejects key %j', (key) => {
    expect(labelKeyProblem(key)).toBeDefined();
  });

  it.each(['', 'prod', 'v1.2_3-x'])('accepts value %j', (value) => {
    expect(labelValueProblem(value)).toBeUndefined();
  });

  it.each(['-x', 'a b', 'x'.repeat(64)])('rejects value %j', (value) => {
    expect(labelValueProblem(value)).toBeDefined();
  });

  it('names the offending key in the field', () => {
    expect(() => checkLabels('cluster.labels', { env: 'prod', 'bad key': 'x' })).toThrow(
      'cluster.labels["bad key"]: label key "bad key"',
    );
  });

  it('returns a copy with sorted keys, empty for null', () => {
    expect(Object.keys(checkLabels('s', { b: '1', a: '2' }))).toEqual(['a', 'b']);
    expect(checkLabels('s', null)).toEqual({});
  });
});

it('detects control characters', () => {
  expect(hasControlChars('a\nb')).toBe(true);
  expect(hasControlChars('a\u007fb')).toBe(true);
  expect(hasControlChars('plain text')).toBe(false);
});
