import { describe, expect, it } from '@jest/globals';
import {
  commitForRef,
  highestTagIn,
  lsRemotePatterns,
  parseLsRemote,
  revisionFor,
  revisionIn,
  semverTags,
} from './git-ref.js';

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

describe('SemVer ranges over tags', () => {
  const sha = (n: number) => n.toString(16).padStart(40, '0');
  // v1.0.0 → 1, v1.2.0 → 2, 1.4.0 (no "v") → 4, annotated v1.3.0 → tag object 30, commit 3,
  // v2.0.0 → 5, prerelease v1.5.0-rc.1 → 6, and tags that are not SemVer
  const lines = [
    `${sha(1)}\trefs/tags/v1.0.0`,
    `${sha(2)}\trefs/tags/v1.2.0`,
    `${sha(30)}\trefs/tags/v1.3.0`,
    `${sha(3)}\trefs/tags/v1.3.0^{}`,
    `${sha(4)}\trefs/tags/1.4.0`,
    `${sha(5)}\trefs/tags/v2.0.0`,
    `${sha(6)}\trefs/tags/v1.5.0-rc.1`,
    `${sha(7)}\trefs/tags/latest`,
    `${sha(8)}\trefs/tags/-v9.0.0`,
    `${sha(9)}\trefs/tags/--upload-pack=9.9.9`,
    `${sha(10)}\trefs/heads/v9.0.0`,
    `${sha(11)}\trefs/tags/v1.6`,
    `${sha(12)}\trefs/tags/release/v3.0.0`,
  ];
  const refs = parseLsRemote(lines.join('\n'));
  const pick = (range: string) => highestTagIn(refs, range);

  it('asks for every tag, peeled ones included', () => {
    expect(lsRemotePatterns({ kind: 'semver', name: '^1.0.0' })).toEqual(['refs/tags/*']);
  });

  it('lists the SemVer tags highest first, with or without a leading "v"', () => {
    expect(semverTags(refs).map((t) => t.tag)).toEqual([
      'v2.0.0',
      'v1.5.0-rc.1',
      '1.4.0',
      'v1.3.0',
      'v1.2.0',
      'v1.0.0',
    ]);
  });

  it('picks the highest tag in the range', () => {
    expect(pick('>=1.0.0 <2.0.0')).toMatchObject({ tag: '1.4.0', commit: sha(4) });
    expect(pick('~1.2.0')).toMatchObject({ tag: 'v1.2.0', commit: sha(2) });
    expect(pick('*')).toMatchObject({ tag: 'v2.0.0', commit: sha(5) });
    expect(pick('1.0.0')).toMatchObject({ tag: 'v1.0.0', commit: sha(1) });
  });

  it('resolves an annotated tag to its commit, not the tag object', () => {
    expect(pick('~1.3.0')).toMatchObject({ tag: 'v1.3.0', commit: sha(3) });
  });

  it('takes prereleases only when the range names one', () => {
    expect(pick('^1.5.0')).toBeUndefined();
    expect(pick('>=1.5.0-0 <2.0.0')).toMatchObject({ tag: 'v1.5.0-rc.1', commit: sha(6) });
  });

  it('never takes tags that are not SemVer, look like options, or branches', () => {
    expect(pick('>=3.0.0')).toBeUndefined();
    expect(pick('>=9.0.0')).toBeUndefined();
  });

  it('breaks a tie between v1.0.0 and 1.0.0 the same way every time', () => {
    const both = parseLsRemote(`${sha(1)}\trefs/tags/v1.0.0\n${sha(2)}\trefs/tags/1.0.0\n`);
    const reversed = parseLsRemote(`${sha(2)}\trefs/tags/1.0.0\n${sha(1)}\trefs/tags/v1.0.0\n`);
    expect(highestTagIn(both, '1.x')).toMatchObject({ tag: '1.0.0' });
    expect(highestTagIn(reversed, '1.x')).toMatchObject({ tag: '1.0.0' });
  });

  it('forms the revision from the chosen tag, as Flux does', () => {
    expect(revisionIn(refs, { kind: 'semver', name: '<2.0.0' }, 'https://h/r.git')).toBe(
      `1.4.0@sha1:${sha(4)}`,
    );
    expect(() => revisionFor({ kind: 'semver', name: '^1' }, sha(1))).toThrow('give the chosen tag');
  });

  it('names the range and the newest tags when nothing matches', () => {
    expect(() => revisionIn(refs, { kind: 'semver', name: '>=3.0.0' }, 'https://h/r.git')).toThrow(
      'no tag matches semver ">=3.0.0" at https://h/r.git (newest tags: "v2.0.0", "v1.5.0-rc.1", "1.4.0", "v1.3.0", "v1.2.0", … (6 SemVer tags))',
    );
    expect(() => revisionIn(new Map(), { kind: 'semver', name: '^1.0.0' }, 'https://h/r.git')).toThrow(
      'no tag matches semver "^1.0.0" at https://h/r.git (no tag there is a SemVer version)',
    );
  });

  it('bounds the message however many and however long the tags are', () => {
    const many = new Map<string, string>();
    for (let i = 0; i < 10_000; i++) many.set(`refs/tags/v0.0.${i}-${'x'.repeat(200)}`, sha(1));
    let message = '';
    try {
      revisionIn(many, { kind: 'semver', name: '>=1.0.0' }, 'https://h/r.git');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('(10000 SemVer tags)');
    expect(message.length).toBeLessThan(800);
  });

  it('names a missing branch or tag as before', () => {
    expect(() => revisionIn(refs, { kind: 'tag', name: 'v7' }, 'https://h/r.git')).toThrow(
      'tag "v7" not found at https://h/r.git',
    );
  });
});
