import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  checkLabelSelector,
  formatLabelSelector,
  matchesLabelSelector,
  parseLabelSelector,
} from './label-selector.js';
import { ValidationError } from './validation.js';

describe('parseLabelSelector', () => {
  it("reads kubectl's syntax into match labels and expressions", () => {
    expect(parseLabelSelector('env in (prod,staging), tier!=gold,!canary,region,team==a,zone=eu')).toEqual({
      matchLabels: { team: 'a', zone: 'eu' },
      matchExpressions: [
        { key: 'canary', operator: 'DoesNotExist', values: [] },
        { key: 'env', operator: 'In', values: ['prod', 'staging'] },
        { key: 'region', operator: 'Exists', values: [] },
        { key: 'tier', operator: 'NotIn', values: ['gold'] },
      ],
    });
    expect(parseLabelSelector('')).toEqual({ matchLabels: {}, matchExpressions: [] });
    expect(parseLabelSelector('example.com/tier notin ( a , b )').matchExpressions).toEqual([
      { key: 'example.com/tier', operator: 'NotIn', values: ['a', 'b'] },
    ]);
  });

  it('matches as Kubernetes does (NotIn and DoesNotExist hold without the label)', () => {
    const sel = parseLabelSelector('env in (prod,staging),tier!=gold,!canary,region');
    expect(matchesLabelSelector({ env: 'prod', region: 'eu' }, sel)).toBe(true);
    expect(matchesLabelSelector({ env: 'prod', region: 'eu', tier: 'silver' }, sel)).toBe(true);
    expect(matchesLabelSelector({ env: 'prod', region: 'eu', tier: 'gold' }, sel)).toBe(false);
    expect(matchesLabelSelector({ env: 'prod', region: 'eu', canary: '' }, sel)).toBe(false);
    expect(matchesLabelSelector({ env: 'dev', region: 'eu' }, sel)).toBe(false);
    expect(matchesLabelSelector({ env: 'prod' }, sel)).toBe(false);
    expect(matchesLabelSelector({}, parseLabelSelector(''))).toBe(true);
    // k=a,k=b: both must hold
    expect(matchesLabelSelector({ k: 'a' }, parseLabelSelector('k=a,k=b'))).toBe(false);
  });

  it('refuses bad text with the field and the problem', () => {
    for (const bad of [
      'env in prod',
      'env in (prod',
      'env=(a)',
      ',env',
      'env,',
      '!',
      'env notin ()x',
      'Bad Key=1',
      'k=-bad-',
      'k in ()x',
      'k\u0000=1',
      'a'.repeat(5000),
    ]) {
      expect(() => parseLabelSelector(bad, 'assignment.selector')).toThrow(ValidationError);
      expect(() => parseLabelSelector(bad, 'assignment.selector')).toThrow(/^assignment\.selector: /);
    }
    expect(() => parseLabelSelector(Array.from({ length: 70 }, (_, i) => `k${i}`).join(','))).toThrow(
      /at most 64 requirements/,
    );
  });

  it('formats back to text that parses to the same selector', () => {
    const text = 'team=a,canary,env in (prod,staging),!gone,tier!=gold,x notin (a,b)';
    const sel = parseLabelSelector(text);
    expect(parseLabelSelector(formatLabelSelector(sel))).toEqual(sel);
    const key = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(key, fc.constantFrom('=', '!=', ' in ', ' notin ', 'exists', '!')), {
          maxLength: 6,
        }),
        (reqs) => {
          const parts = reqs.map(([k, op]) =>
            op === 'exists'
              ? k
              : op === '!'
                ? `!${k}`
                : op.trim() === 'in' || op.trim() === 'notin'
                  ? `${k}${op}(v1,v2)`
                  : `${k}${op}v`,
          );
          const parsed = parseLabelSelector(parts.join(','));
          expect(parseLabelSelector(formatLabelSelector(parsed))).toEqual(parsed);
        },
      ),
    );
  });

  it('checks structured selectors from the API', () => {
    expect(() =>
      checkLabelSelector('s', { matchExpressions: [{ key: 'a', operator: 'Like', values: [] }] }),
    ).toThrow(/s\.matchExpressions\[0\]\.operator: "Like" is not one of/);
    expect(() =>
      checkLabelSelector('s', { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }),
    ).toThrow(/needs at least one value/);
    expect(() =>
      checkLabelSelector('s', { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }),
    ).toThrow(/takes no values/);
    expect(() => checkLabelSelector('s', { matchLabels: { 'a b': 'x' } })).toThrow(/s\.matchLabels\["a b"\]/);
  });
});
