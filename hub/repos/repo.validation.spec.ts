import { describe, expect, it } from '@jest/globals';
import { GitCredentials } from '../../proto/index.js';
import { gitRefOf, validateRepo } from './repo.validation.js';

const base = { tenant: 'team-a', name: 'app', url: 'https://git.example.com/org/app.git' };
const oci = { tenant: 'team-a', name: 'app', url: 'oci://127.0.0.1:5000/org/app' };
const DIGEST = `sha256:${'c'.repeat(64)}`;

describe('validateRepo', () => {
  it('defaults to git, branch main, 60 s', () => {
    expect(validateRepo(base)).toEqual({
      ...base,
      type: 'git',
      branch: 'main',
      tag: '',
      commit: '',
      semver: '',
      digest: '',
      intervalSeconds: 60,
      credentials: undefined,
    });
  });

  it('makes an oci:// URL an OCI repo following a tag, a SemVer range or a digest ("latest" by default)', () => {
    expect(validateRepo(oci)).toMatchObject({ type: 'oci', branch: '', tag: 'latest', digest: '' });
    expect(validateRepo({ ...oci, tag: 'v1.0.0' })).toMatchObject({ type: 'oci', tag: 'v1.0.0' });
    expect(validateRepo({ ...oci, semver: '^1.0.0' })).toMatchObject({ tag: '', semver: '^1.0.0' });
    expect(validateRepo({ ...oci, digest: DIGEST })).toMatchObject({ tag: '', digest: DIGEST });
    expect(validateRepo({ ...oci, credentials: { username: 'u', password: 'p' } }).credentials).toMatchObject(
      {
        username: 'u',
        password: 'p',
      },
    );
  });

  it('keeps one of tag or commit without adding a branch', () => {
    expect(validateRepo({ ...base, tag: 'v1.2.0' })).toMatchObject({ branch: '', tag: 'v1.2.0' });
    const sha = 'ABCDEF0123456789abcdef0123456789ABCDEF01';
    expect(validateRepo({ ...base, commit: sha })).toMatchObject({ branch: '', commit: sha.toLowerCase() });
  });

  it('keeps a SemVer range (trimmed) without adding a branch', () => {
    for (const range of ['>=1.0.0 <2.0.0', '^1.2', '~1.4.0-0', '1.x || >=3.1.0', '*'])
      expect(validateRepo({ ...base, semver: ` ${range} ` })).toMatchObject({ branch: '', semver: range });
  });

  it('checks a huge range by its length before semver parses it', () => {
    const start = Date.now();
    expect(() => validateRepo({ ...base, semver: '1'.repeat(10_000_000) })).toThrow('at most 256');
    expect(Date.now() - start).toBeLessThan(3000); // a hang guard: semver on 10 MB would take far longer
  });

  it('keeps credentials for http(s) URLs', () => {
    const r = validateRepo({ ...base, credentials: { username: 'bot', password: 's3cret' } });
    expect(r.credentials).toEqual(GitCredentials.fromPartial({ username: 'bot', password: 's3cret' }));
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
    [{ ...base, type: 'oci' }, 'repo.url: must start with oci://'],
    [{ ...oci, type: 'git' }, 'repo.type: is "git" but the URL is oci://'],
    [{ ...oci, branch: 'main' }, 'repo.branch: an OCI repo has no branch'],
    [{ ...oci, commit: 'a'.repeat(40) }, 'repo.commit: an OCI repo has no commit'],
    [{ ...oci, tag: 'v1', digest: DIGEST }, 'repo.digest: give at most one of tag, semver, digest'],
    [{ ...oci, semver: '^1', digest: DIGEST }, 'repo.digest: give at most one of tag, semver, digest'],
    [{ ...oci, digest: 'sha256:abc' }, 'repo.digest: "sha256:abc" is not a digest'],
    [{ ...oci, digest: `sha512:${'a'.repeat(128)}` }, 'is not a digest ("sha256:" and 64 hex digits)'],
    [{ ...oci, tag: '-x' }, 'repo.tag: "-x" is not an OCI tag'],
    [{ ...oci, tag: 'a/b' }, 'repo.tag: "a/b" is not an OCI tag'],
    [{ ...oci, url: 'oci://host/app:v1' }, 'repo.url: must not name a tag or digest'],
    [{ ...oci, url: 'oci://host/App' }, 'repo.url: repository "App" is not a lowercase OCI repository path'],
    [{ ...oci, url: 'oci://host' }, 'repo.url: needs a host and a repository path'],
    [{ ...oci, url: 'oci://-host/app' }, 'repo.url: host "-host" is not a host[:port]'],
    [{ ...oci, url: 'oci://host/a/../b' }, 'is not a lowercase OCI repository path'],
    [{ ...oci, url: 'oci://host/app\n' }, 'repo.url: must not contain spaces or control characters'],
    [{ ...base, digest: DIGEST }, 'repo.digest: only an OCI repo (oci:// URL) has a digest'],
    [{ ...base, type: 'svn' }, 'repo.type: "svn" is not supported'],
    [{ ...base, branch: 'main', tag: 'v1' }, 'repo.tag: give at most one of branch, tag, commit, semver'],
    [
      { ...base, tag: 'v1', semver: '^1.0.0' },
      'repo.semver: give at most one of branch, tag, commit, semver',
    ],
    [{ ...base, branch: 'dev', semver: '^1.0.0' }, 'repo.semver: give at most one'],
    [{ ...base, commit: 'a'.repeat(40), semver: '1.x' }, 'repo.semver: give at most one'],
    [{ ...base, semver: 'latest' }, 'repo.semver: "latest" is not a SemVer range'],
    [
      { ...base, semver: '--upload-pack=/bin/sh' },
      'repo.semver: "--upload-pack=/bin/sh" is not a SemVer range',
    ],
    [{ ...base, semver: '>=1.0.0 <2.0.0; rm -rf /' }, 'is not a SemVer range'],
    [{ ...base, semver: '>=1.0.0\n<2.0.0' }, 'repo.semver: must not contain control characters'],
    [{ ...base, semver: '   ' }, 'repo.semver: is blank'],
    [
      { ...base, semver: `>=1.0.0 ${'|| 1.0.0 '.repeat(100_000)}` },
      'repo.semver: is 900008 characters long (at most 256)',
    ],
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
      'repo.credentials: basic-auth credentials need an http(s) or oci URL',
    ],
    [{ tenant: 'team-a', url: base.url }, 'repo.name: required'],
  ])('rejects %j with %j', (input, message) => {
    expect(() => validateRepo(input)).toThrow(message);
  });
});

// checkGitUrl and refNameProblem: proto/contract/validation.spec.ts

it('gitRefOf picks commit, then semver, then tag, then branch (main by default)', () => {
  const none = { branch: '', tag: '', commit: '', semver: '' };
  expect(gitRefOf({ ...none, commit: 'c'.repeat(40) })).toEqual({
    kind: 'commit',
    name: 'c'.repeat(40),
  });
  expect(gitRefOf({ ...none, semver: '^1.0.0' })).toEqual({ kind: 'semver', name: '^1.0.0' });
  expect(gitRefOf({ ...none, tag: 'v1' })).toEqual({ kind: 'tag', name: 'v1' });
  expect(gitRefOf({ ...none, branch: 'dev' })).toEqual({ kind: 'branch', name: 'dev' });
  expect(gitRefOf(none)).toEqual({ kind: 'branch', name: 'main' });
});

describe('validateCredentials', () => {
  // a real (throwaway) ed25519 key, made for this spec
  const key =
    [
      '-----BEGIN OPENSSH PRIVATE KEY-----',
      'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
      'QyNTUxOQAAACAqsZosRFwrgbfd4HrmZB7qGNJGbGteBCZsrljiBSpdbAAAAIhZcPu1WXD7',
      'tQAAAAtzc2gtZWQyNTUxOQAAACAqsZosRFwrgbfd4HrmZB7qGNJGbGteBCZsrljiBSpdbA',
      'AAAEB6ZHmdAawO21+hJnWO2+UDNAHSR/1Jtr7aGvm5nVBj1CqxmixEXCuBt93geuZkHuoY',
      '0kZsa14EJmyuWOIFKl1sAAAAAAECAwQF',
      '-----END OPENSSH PRIVATE KEY-----',
    ].join('\n') + '\n';
  const knownHosts =
    '[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n';
  const ssh = { tenant: 'team-a', name: 'app', url: 'ssh://git@127.0.0.1:2222/app.git' };

  it('keeps an SSH deploy key with its known_hosts, for ssh and scp-like URLs', () => {
    const r = validateRepo({
      ...ssh,
      credentials: { sshPrivateKey: key.replace(/\n/g, '\r\n'), knownHosts },
    });
    expect(r.credentials).toEqual(GitCredentials.fromPartial({ sshPrivateKey: key, knownHosts }));
    expect(
      validateRepo({ ...ssh, url: 'git@127.0.0.1:app.git', credentials: { sshPrivateKey: key, knownHosts } })
        .credentials?.sshPrivateKey,
    ).toBe(key);
  });

  it('keeps a bearer token for http(s)', () => {
    const r = validateRepo({
      ...ssh,
      url: 'https://git.example/app.git',
      credentials: { bearerToken: 'ghp_x1' },
    });
    expect(r.credentials).toEqual(GitCredentials.fromPartial({ bearerToken: 'ghp_x1' }));
  });

  it.each([
    [{ sshPrivateKey: key }, 'repo.credentials.known_hosts: required with an SSH key'],
    [{ knownHosts }, 'repo.credentials.ssh_private_key: required with known_hosts'],
    [
      { sshPrivateKey: 'ssh-ed25519 AAAA me@host', knownHosts },
      'repo.credentials.ssh_private_key: is not a private key',
    ],
    [{ sshPrivateKey: key + 'x'.repeat(20_000), knownHosts }, 'repo.credentials.ssh_private_key: is 2'],
    [
      { sshPrivateKey: key, knownHosts: 'garbage\n' },
      'repo.credentials.known_hosts: line 1 is not a known_hosts entry',
    ],
    [
      { sshPrivateKey: key, knownHosts: 'h ssh-ed25519 AAAA\n'.repeat(5000) },
      'repo.credentials.known_hosts: is 9',
    ],
    [{ bearerToken: 'tok' }, 'repo.credentials.bearer_token: a bearer token needs an http(s) URL'],
    [{ bearerToken: 'x', username: 'u', password: 'p' }, 'repo.credentials: give one kind of credentials'],
  ])('rejects SSH credentials %#', (credentials, message) => {
    expect(() => validateRepo({ ...ssh, credentials })).toThrow(message);
  });

  it.each([
    ['tok\r\nX-Evil: 1', 'must be one line of visible ASCII'],
    ['tok en', 'must be one line of visible ASCII'],
    ['t'.repeat(9000), 'is 9000 characters long'],
  ])('rejects the bearer token %#', (bearerToken, message) => {
    const input = { ...ssh, url: 'https://git.example/app.git', credentials: { bearerToken } };
    expect(() => validateRepo(input)).toThrow(`repo.credentials.bearer_token: ${message}`);
  });

  it('refuses an SSH key for an https URL, and never echoes the key', () => {
    let message = '';
    try {
      validateRepo({
        ...ssh,
        url: 'https://git.example/app.git',
        credentials: { sshPrivateKey: key, knownHosts },
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('repo.credentials.ssh_private_key: an SSH key needs an ssh URL');
    expect(message).not.toContain('PRIVATE KEY');
  });
});
