import { describe, expect, it } from '@jest/globals';
import { gitRefOf, validateRepo } from './repo.validation.js';

const base = { tenant: 'team-a', name: 'app', url: 'https://git.example.com/org/app.git' };

describe('validateRepo', () => {
  it('defaults to git, branch main, 60 s', () => {
    expect(validateRepo(base)).toEqual({
      ...base,
      type: 'git',
      branch: 'main',
      tag: '',
      commit: '',
      intervalSeconds: 60,
      credentials: undefined,
    });
  });

  it('keeps one of tag or commit without adding a branch', () => {
    expect(validateRepo({ ...base, tag: 'v1.2.0' })).toMatchObject({ branch: '', tag: 'v1.2.0' });
    const sha = 'ABCDEF0123456789abcdef0123456789ABCDEF01';
    expect(validateRepo({ ...base, commit: sha })).toMatchObject({ branch: '', commit: sha.toLowerCase() });
  });

  it('keeps credentials for http(s) URLs', () => {
    const r = validateRepo({ ...base, credentials: { username: 'bot', password: 's3cret' } });
    expect(r.credentials).toEqual({ username: 'bot', password: 's3cret' });
  });

  it('treats empty credentials as none', () => {
    expect(
      validateRepo({ ...base, credentials: { username: '', password: '' } }).credentials,
    ).toBeUndefined();
  });

  it.each([
    [{ ...base, url: 'ftp://host/x' }, 'repo.url: must be an http(s), ssh or git URL'],
    [{ ...base, url: '' }, 'repo.url: required'],
    [{ ...base, url: 'not a url' }, 'repo.url: must not contain spaces'],
    [{ ...base, url: 'https://user:pw@host/x.git' }, 'repo.url: must not contain credentials'],
    [{ ...base, type: 'oci' }, 'repo.type: "oci" is not supported yet'],
    [{ ...base, type: 'svn' }, 'repo.type: "svn" is not supported'],
    [{ ...base, branch: 'main', tag: 'v1' }, 'repo.tag: give at most one of branch, tag, commit'],
    [{ ...base, tag: 'v1', commit: 'a'.repeat(40) }, 'repo.commit: give at most one'],
    [{ ...base, commit: 'abc123' }, 'repo.commit: "abc123" is not a full 40-character commit SHA'],
    [{ ...base, branch: 'a..b' }, 'repo.branch: "a..b" is not a valid git ref name'],
    [{ ...base, branch: 'refs/heads/main' }, 'repo.branch: "refs/heads/main" give the short name'],
    [{ ...base, intervalSeconds: 5 }, 'repo.interval_seconds: must be between 10 and 86400'],
    [{ ...base, intervalSeconds: -1 }, 'repo.interval_seconds:'],
    [{ ...base, credentials: { username: '', password: 'x' } }, 'repo.credentials.username: required'],
    [{ ...base, credentials: { username: 'u', password: '' } }, 'repo.credentials.password: required'],
    [
      { ...base, url: 'git@host:org/app.git', credentials: { username: 'u', password: 'p' } },
      'repo.credentials: basic-auth credentials need an http(s) URL',
    ],
    [{ tenant: 'team-a', url: base.url }, 'repo.name: required'],
  ])('rejects %j with %j', (input, message) => {
    expect(() => validateRepo(input)).toThrow(message);
  });
});

// checkGitUrl and refNameProblem: proto/contract/validation.spec.ts

it('gitRefOf picks commit, then tag, then branch (main by default)', () => {
  expect(gitRefOf({ branch: '', tag: '', commit: 'c'.repeat(40) })).toEqual({
    kind: 'commit',
    name: 'c'.repeat(40),
  });
  expect(gitRefOf({ branch: '', tag: 'v1', commit: '' })).toEqual({ kind: 'tag', name: 'v1' });
  expect(gitRefOf({ branch: 'dev', tag: '', commit: '' })).toEqual({ kind: 'branch', name: 'dev' });
  expect(gitRefOf({ branch: '', tag: '', commit: '' })).toEqual({ kind: 'branch', name: 'main' });
});
