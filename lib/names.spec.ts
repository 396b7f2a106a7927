import { describe, expect, it } from '@jest/globals';
import { isDnsLabel } from './names.js';

describe('isDnsLabel', () => {
  it.each(['a', 'web', 'team-a', '0', 'a1-b2', 'x'.repeat(63)])('accepts %s', (name) => {
    expect(isDnsLabel(name)).toBe(true);
  });

  it.each(['', 'A', '-a', 'a-', 'a_b', 'a.b', 'a b', 'ü', 'a\n', 'x'.repeat(64)])('rejects %j', (name) => {
    expect(isDnsLabel(name)).toBe(false);
  });
});
