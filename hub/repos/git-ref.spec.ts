import { describe, expect, it } from '@jest/globals';
import { commitForRef, lsRemotePatterns, parseLsRemote, revisionFor } from './git-ref.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const D = 'd'.repeat(40);

const output = [
  `${A}\tHEAD`,
  `${A}\trefs/heads/main`,
  `${B}\trefs/heads/feature/main`,
  `${C}\trefs/tags/v1`,
  `${D}\trefs/tags/v1^{}`,
  `${B}\trefs/tags/light`,
  '',
].join('\n');

describe('ls-remote', () => {
  const refs = parseLsRemote(output);

  it('parses every ref line', () => {
    expect(refs.size).toBe(6);
    expect(refs.get('refs/heads/main')).toBe(A);
  });

  it('matches a branch exactly (not a branch that merely ends the same)', () => {
    expect(commitForRef(refs, { kind: 'branch', name: 'main' })).toBe(A);
    expect(commitForRef(refs, { kind: 'branch', name: 'feature/main' })).toBe(B);
  });

  it("prefers an annotated tag's peeled commit", () => {
    expect(commitForRef(refs, { kind: 'tag', name: 'v1' })).toBe(D);
  });

  it('takes a lightweight tag as is', () => {
    expect(commitForRef(refs, { kind: 'tag', name: 'light' })).toBe(B);
  });

  it('answers undefined for a missing ref', () => {
    expect(commitForRef(refs, { kind: 'branch', name: 'nope' })).toBeUndefined();
    expect(commitForRef(refs, { kind: 'tag', name: 'v2' })).toBeUndefined();
  });

  it('ignores garbage lines', () => {
    expect(parseLsRemote('warning: redirecting\nnot a ref\n').size).toBe(0);
  });

  it('asks only for the refs it needs', () => {
    expect(lsRemotePatterns({ kind: 'branch', name: 'main' })).toEqual(['refs/heads/main']);
    expect(lsRemotePatterns({ kind: 'tag', name: 'v1' })).toEqual(['refs/tags/v1', 'refs/tags/v1^{}']);
    expect(lsRemotePatterns({ kind: 'commit', name: A })).toEqual([]);
  });
});

it('formats revisions as Flux does', () => {
  expect(revisionFor({ kind: 'branch', name: 'main' }, A)).toBe(`main@sha1:${A}`);
  expect(revisionFor({ kind: 'tag', name: 'v1' }, D)).toBe(`v1@sha1:${D}`);
  expect(revisionFor({ kind: 'commit', name: A }, A)).toBe(`sha1:${A}`);
});
