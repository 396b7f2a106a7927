import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { fuzzParams } from '../../test/fuzz/fuzz-params.js';
import { ValidationError } from '../common/errors.js';
import { checkLabels, labelKeyProblem } from '../common/names.js';
import { parseLabelSelector } from '../../proto/index.js';
import { assignmentSelects, clusterGroups, groupSelects, matchesSelector } from './selector.js';

describe('matchesSelector', () => {
  const labels = { env: 'prod', region: 'eu' };
  it.each([
    [{}, true],
    [{ env: 'prod' }, true],
    [{ env: 'prod', region: 'eu' }, true],
    [{ env: 'dev' }, false],
    [{ env: 'prod', tier: 'gold' }, false],
  ])('%j → %s', (selector, want) => {
    expect(matchesSelector(labels, selector)).toBe(want);
  });

  it('does not match inherited properties', () => {
    expect(matchesSelector({}, { toString: 'x' })).toBe(false);
  });
});

describe('assignmentSelects', () => {
  const prod = { name: 'prod-1', labels: { env: 'prod' } };
  it('selects by name', () => {
    expect(assignmentSelects({ clusters: ['prod-1'], selector: {} }, prod)).toBe(true);
  });
  it('selects by labels', () => {
    expect(assignmentSelects({ clusters: [], selector: { env: 'prod' } }, prod)).toBe(true);
    expect(assignmentSelects({ clusters: [], selector: { env: 'dev' } }, prod)).toBe(false);
  });
  it('selects by name or labels', () => {
    expect(assignmentSelects({ clusters: ['prod-1'], selector: { env: 'dev' } }, prod)).toBe(true);
  });
  it('selects nothing with neither', () => {
    expect(assignmentSelects({ clusters: [], selector: {} }, prod)).toBe(false);
  });
});

describe('assignmentSelects with expressions and groups', () => {
  const sel = (text: string) => {
    const s = parseLabelSelector(text);
    return { clusters: [], selector: s.matchLabels, matchExpressions: s.matchExpressions };
  };
  const c = (name: string, labels: Record<string, string>) => ({ name, labels });
  it.each([
    ['env in (prod,staging)', { env: 'staging' }, true],
    ['env in (prod,staging)', { env: 'dev' }, false],
    ['env in (prod,staging)', {}, false],
    ['tier!=gold', {}, true],
    ['tier!=gold', { tier: 'gold' }, false],
    ['!canary', { canary: 'true' }, false],
    ['!canary', {}, true],
    ['region', { region: '' }, true],
    ['region', {}, false],
    ['region=eu,env notin (dev),!canary', { region: 'eu', env: 'prod' }, true],
    ['region=eu,env notin (dev),!canary', { region: 'eu', env: 'dev' }, false],
  ])('%s on %j → %s', (text, labels, want) => {
    expect(assignmentSelects(sel(text), c('x', labels))).toBe(want);
  });

  it('an assignment with expressions only is not empty', () => {
    expect(assignmentSelects(sel('!canary'), c('x', {}))).toBe(true);
  });

  it('selects the clusters of its groups: named ones and those a non-empty group selector matches', () => {
    const groups = [
      { name: 'eu', clusters: [], selector: parseLabelSelector('region=eu') },
      { name: 'gold', clusters: ['us-1'], selector: { matchLabels: {}, matchExpressions: [] } },
      { name: 'none', clusters: [], selector: { matchLabels: {}, matchExpressions: [] } },
    ];
    const eu = c('eu-1', { region: 'eu' });
    const us = c('us-1', { region: 'us' });
    expect(clusterGroups(eu, groups).map((g) => g.name)).toEqual(['eu']);
    expect(clusterGroups(us, groups).map((g) => g.name)).toEqual(['gold']);
    // an empty group selector matches nothing (not everything)
    expect(groupSelects(groups[2], eu)).toBe(false);
    const a = { clusters: [], selector: {}, groups: ['gold'] };
    expect(assignmentSelects(a, us, clusterGroups(us, groups))).toBe(true);
    expect(assignmentSelects(a, eu, clusterGroups(eu, groups))).toBe(false);
    // without the cluster's groups, groups select nothing
    expect(assignmentSelects(a, us)).toBe(false);
  });
});

describe('fuzz (fast-check): selectors', () => {
  const token = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.constantFrom('__proto__', 'constructor', 'toString', 'env', 'a.b/c', '*', '>', '='),
  );
  const pairs = fc.array(fc.tuple(token, token), { maxLength: 5 });

  it('checkLabels → matchesSelector throws nothing but a ValidationError', () => {
    fc.assert(
      fc.property(pairs, fc.dictionary(token, token, { maxKeys: 5 }), (entries, labels) => {
        let selector: Record<string, string>;
        try {
          selector = checkLabels('assignment.selector', Object.fromEntries(entries));
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
          return;
        }
        for (const key of Object.keys(selector)) expect(labelKeyProblem(key)).toBeUndefined();
        expect(typeof matchesSelector(labels, selector)).toBe('boolean');
        // a cluster carrying exactly the selector's labels is selected, nothing inherited counts
        expect(matchesSelector({ ...selector }, selector)).toBe(true);
        expect(assignmentSelects({ clusters: [], selector }, { name: 'c', labels: selector })).toBe(
          Object.keys(selector).length > 0,
        );
      }),
      fuzzParams(300),
    );
  });

  it('inherited properties never satisfy a selector', () => {
    expect(matchesSelector({}, { toString: 'x' })).toBe(false);
    expect(matchesSelector({}, Object.fromEntries([['__proto__', 'x']]))).toBe(false);
  });
});
