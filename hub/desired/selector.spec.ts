import { describe, expect, it } from '@jest/globals';
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
