import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { fuzzParams } from '../../test/fuzz/fuzz-params.js';
import { ValidationError } from '../common/errors.js';
import { checkLabels, labelKeyProblem } from '../common/names.js';
import { assignmentSelects, matchesSelector } from './selector.js';

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
