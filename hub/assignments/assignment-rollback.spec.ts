import { describe, expect, it } from '@jest/globals';
import { namesRevision, rollbackTarget } from './assignment-rollback.service.js';

const sha = (c: string) => c.repeat(40);
const rev = (c: string) => `main@sha1:${sha(c)}`;
const entry = (revision: string) => ({ revision, firstAppliedAtMs: 1, lastAppliedAtMs: 1, clusters: 1 });

describe('rollbackTarget', () => {
  const history = [entry(rev('c')), entry(rev('b')), entry(rev('a'))];

  it('defaults to the revision applied before the current one', () => {
    expect(rollbackTarget(history, rev('c'), '', 't/a')).toBe(rev('b'));
    expect(rollbackTarget(history, rev('b'), '', 't/a')).toBe(rev('a'));
  });

  it('defaults to the newest applied revision when the current one was never applied', () => {
    expect(rollbackTarget(history, rev('d'), '', 't/a')).toBe(rev('c'));
  });

  it('refuses when nothing was applied before the current one', () => {
    expect(() => rollbackTarget(history, rev('a'), '', 't/a')).toThrow(
      'assignment "t/a" has no revision applied before main@sha1:aaaaaaaa: its history holds',
    );
  });

  it('takes a revision of the history by its full string or a unique commit prefix', () => {
    expect(rollbackTarget(history, rev('c'), rev('a'), 't/a')).toBe(rev('a'));
    expect(rollbackTarget(history, rev('c'), 'bbbbbbb', 't/a')).toBe(rev('b'));
    expect(rollbackTarget(history, rev('c'), 'main@sha1:bbbbbbbb', 't/a')).toBe(rev('b'));
    expect(() => rollbackTarget(history, rev('c'), 'bbbbbb', 't/a')).toThrow('is not in the history');
    expect(() => rollbackTarget(history, rev('c'), 'dev@sha1:bbbbbbbb', 't/a')).toThrow(
      'is not in the history',
    );
  });

  it('refuses a prefix that names several revisions', () => {
    const twins = [
      entry(`main@sha1:${'a'.repeat(8)}${'1'.repeat(32)}`),
      entry(`main@sha1:${'a'.repeat(8)}${'2'.repeat(32)}`),
    ];
    expect(() => rollbackTarget(twins, '', 'aaaaaaaa', 't/a')).toThrow(
      'to_revision: "aaaaaaaa" names 2 revisions',
    );
  });

  it('matches OCI digests the same way', () => {
    const digest = `v1@sha256:${'e'.repeat(64)}`;
    expect(namesRevision(digest, 'sha256:eeeeeeee')).toBe(true);
    expect(namesRevision(digest, 'sha1:eeeeeeee')).toBe(false);
  });
});
