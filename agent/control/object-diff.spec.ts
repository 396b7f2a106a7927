import { describe, expect, it } from '@jest/globals';
import { changedFields } from './object-diff.js';

describe('changedFields', () => {
  it('names the changed, added and removed fields, ignoring what every write changes', () => {
    const live = {
      metadata: { name: 'x', resourceVersion: '1', managedFields: [{ manager: 'a' }], labels: { a: '1' } },
      data: { keep: 'same', old: 'gone', 'a/b~c': 'v1' },
      spec: { ports: [{ port: 80 }, { port: 81 }], list: [1] },
    };
    const next = {
      metadata: { name: 'x', resourceVersion: '2', managedFields: [{ manager: 'b' }], labels: { a: '2' } },
      data: { keep: 'same', new: 'here', 'a/b~c': 'v2' },
      spec: { ports: [{ port: 80 }, { port: 82 }], list: [1, 2] },
    };
    expect(changedFields(live, next)).toEqual([
      '/data/a~1b~0c',
      '/data/new',
      '/data/old',
      '/metadata/labels/a',
      '/spec/list',
      '/spec/ports/1/port',
    ]);
  });

  it('finds nothing when only volatile fields differ', () => {
    expect(
      changedFields(
        { metadata: { name: 'x', generation: 1 }, status: { a: 1 } },
        { metadata: { name: 'x', generation: 2 }, status: { a: 2 } },
      ),
    ).toEqual([]);
  });
});
