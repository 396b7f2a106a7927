import { describe, expect, it } from '@jest/globals';
import { allowedPaths, camelToSnake, mergeFields, type MaskRules } from './field-mask.js';

interface Spec {
  name: string;
  prune: boolean;
  labels: Record<string, string>;
  helm?: { releaseName: string; set: string[] };
}

const rules: MaskRules = {
  field: 'fields',
  fields: ['prune', 'labels', 'helm'],
  nested: { helm: { releaseName: '', set: [] } },
};
const defaults: Partial<Spec> = { prune: false, labels: {}, helm: undefined };
const current: Spec = {
  name: 'web',
  prune: true,
  labels: { a: 'b' },
  helm: { releaseName: 'r', set: ['x=1'] },
};

describe('mergeFields', () => {
  it('takes the named fields from the input and keeps the others', () => {
    expect(mergeFields(current, { prune: false, labels: { c: 'd' } }, ['prune'], rules, defaults)).toEqual({
      ...current,
      prune: false,
    });
  });

  it('resets a named field the input leaves out to its default', () => {
    expect(mergeFields(current, {}, ['labels', 'helm'], rules, defaults)).toEqual({
      ...current,
      labels: {},
      helm: undefined,
    });
  });

  it('merges one field of a nested message, keeping its siblings (and starting from defaults when unset)', () => {
    expect(
      mergeFields(current, { helm: { releaseName: '', set: ['y=2'] } }, ['helm.set'], rules, defaults),
    ).toEqual({ ...current, helm: { releaseName: 'r', set: ['y=2'] } });
    expect(
      mergeFields(
        { ...current, helm: undefined },
        { helm: { releaseName: 'n', set: [] } },
        ['helm.release_name'],
        rules,
        defaults,
      ),
    ).toEqual({ ...current, helm: { releaseName: 'n', set: [] } });
  });

  it('refuses paths that are not fields, naming the path and its index', () => {
    for (const [path, index] of [
      ['name', 0],
      ['releaseName', 0],
      ['helm.release', 0],
      ['prune.x', 0],
      ['constructor', 0],
      ['helm.__proto__', 0],
      ['HELM', 0],
    ] as const) {
      expect(() => mergeFields(current, {}, [path], rules, defaults)).toThrow(
        `fields[${index}]: ${JSON.stringify(path)} is not a field that can be changed (use prune, labels, helm, helm.release_name, helm.set)`,
      );
    }
    expect(() => mergeFields(current, {}, Array(101).fill('prune'), rules, defaults)).toThrow(
      'fields: 101 paths (at most 100)',
    );
  });

  it('names paths in snake_case', () => {
    expect(camelToSnake('intervalSeconds')).toBe('interval_seconds');
    expect(allowedPaths(rules)).toEqual(['prune', 'labels', 'helm', 'helm.release_name', 'helm.set']);
  });
});
