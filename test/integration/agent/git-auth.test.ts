// Git over SSH with a deploy key and known_hosts, and over HTTP with a bearer token, against the
// real servers of test/env (Debian's sshd forcing git-shell; git http-backend): the hub's
// ls-remote resolves, the agent's git source fetches, and every failure is one line that says
// what to fix, with no key material or token in it. Plus the cache's byte budget on real fetches.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitCredentials, Reason } from '../../../proto/index.js';
import { createLogger } from '../../../lib/log.js';
import { ReconcileError } from '../../../agent/errors.js';
import { GitSource } from '../../../agent/sources/git/git-source.js';
import { GitRemoteRepository } from '../../../hub/repos/git-remote.repository.js';
import { validateRepo } from '../../../hub/repos/repo.validation.js';
import { startGit, startSshGit, type GitEnv, type GitRepo, type SshGitEnv } from '../../env/index.js';

const log = createLogger('agent', process.env.GITFLEET_LOG_LEVEL ?? 'warn');

/** The base64 body of a private key: what must never show up in a message. */
const keyBody = (pem: string) => pem.split('\n').slice(1, -2).join('');

function expectNoKey(message: string, pem: string): void {
  expect(message).not.toContain('PRIVATE KEY');
  for (const line of pem.split('\n').slice(1, -2)) expect(message).not.toContain(line);
  expect(message).not.toContain(keyBody(pem).slice(0, 20));
}

describe('git over SSH with a deploy key', () => {
  let git: GitEnv;
  let ssh: SshGitEnv;
  let repo: GitRepo;
  let cacheDir: string;
  const remote = new GitRemoteRepository();

  beforeAll(async () => {
    git = await startGit();
    ssh = await startSshGit(git);
    repo = await git.createRepo('deploy', {
      'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n',
    });
    cacheDir = mkdtempSync(join(tmpdir(), 'gitfleet-ssh-cache-'));
  }, 60_000);
  afterAll(async () => {
    await ssh?.stop();
    await git?.stop();
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });

  const creds = (over: Partial<GitCredentials> = {}) =>
    GitCredentials.fromPartial({
      sshPrivateKey: ssh.deployKey.privateKey,
      knownHosts: ssh.knownHosts,
      ...over,
    });

  it('validates the repo, resolves it on the hub and fetches it on the agent', async () => {
    const spec = validateRepo({
      tenant: 'team-a',
      name: 'deploy',
      url: ssh.url('deploy'),
      credentials: creds(),
    });
    const head = await repo.head();
    const out = await remote.lsRemote(spec.url, ['refs/heads/main'], spec.credentials);
    expect(out).toContain(`${head}\trefs/heads/main`);

    const source = new GitSource({ cacheDir, log });
    const c = await source.fetch({ url: spec.url, commit: head, credentials: spec.credentials });
    expect(readFileSync(join(c.dir, 'cm.yaml'), 'utf8')).toContain('kind: ConfigMap');
    c.release();
    // the key files are gone after the fetch and the ls-remote
    expect(
      readdirSync(tmpdir()).filter(
        (d) => d.startsWith('gitfleet-ssh-') && existsSync(join(tmpdir(), d, 'id')),
      ),
    ).toEqual([]);
  });

  it('says the deploy key was rejected, without the key', async () => {
    const wrong = ssh.newKeyPair().privateKey;
    const err = await remote
      .lsRemote(ssh.url('deploy'), ['refs/heads/main'], creds({ sshPrivateKey: wrong }))
      .catch((e: Error) => e);
    expect((err as Error).message).toMatch(/authentication failed: the server rejected the SSH deploy key/);
    expect((err as Error).message.split('\n')).toHaveLength(1);
    expectNoKey((err as Error).message, wrong);

    // a cache of its own: the commit is cached already, and a hit makes no network call
    const source = new GitSource({ cacheDir: mkdtempSync(join(cacheDir, 'fresh-')), log });
    const fetchErr = await source
      .fetch({
        url: ssh.url('deploy'),
        commit: await repo.head(),
        credentials: creds({ sshPrivateKey: wrong }),
      })
      .catch((e: unknown) => e);
    expect(fetchErr).toBeInstanceOf(ReconcileError);
    expect((fetchErr as ReconcileError).reason).toBe(Reason.ArtifactFailed);
    expect((fetchErr as Error).message).toMatch(/rejected the SSH deploy key/);
    expectNoKey((fetchErr as Error).message, wrong);
  });

  it('says the known_hosts does not match when the host key differs', async () => {
    const other = ssh.newKeyPair().publicKey.split(' ').slice(0, 2).join(' ');
    const knownHosts = `[127.0.0.1]:${ssh.port} ${other}\n`;
    const err = await remote
      .lsRemote(ssh.url('deploy'), ['refs/heads/main'], creds({ knownHosts }))
      .catch((e: Error) => e);
    expect((err as Error).message).toMatch(
      /host key verification failed: the server's host key does not match repo known_hosts/,
    );
    expectNoKey((err as Error).message, ssh.deployKey.privateKey);

    // a cache of its own: the commit is cached already, and a hit makes no network call
    const source = new GitSource({ cacheDir: mkdtempSync(join(cacheDir, 'fresh-')), log });
    const fetchErr = await source
      .fetch({ url: ssh.url('deploy'), commit: await repo.head(), credentials: creds({ knownHosts }) })
      .catch((e: unknown) => e);
    expect((fetchErr as Error).message).toMatch(/does not match repo known_hosts/);
  });

  it('says the host is unreachable', async () => {
    const url = ssh.url('deploy').replace(`:${ssh.port}/`, ':1/');
    const err = await remote.lsRemote(url, ['refs/heads/main'], creds()).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/the host is unreachable \(connection refused\)/);
  });

  it('finds no ref that is not there', async () => {
    expect(await remote.lsRemote(ssh.url('deploy'), ['refs/heads/nope'], creds())).toBe('');
  });
});

describe('git over HTTP with a bearer token', () => {
  let git: GitEnv;
  const token = 'gfb_0123456789abcdef';
  let cacheDir: string;

  beforeAll(async () => {
    git = await startGit({ bearerToken: token });
    cacheDir = mkdtempSync(join(tmpdir(), 'gitfleet-bearer-cache-'));
  });
  afterAll(async () => {
    await git?.stop();
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });

  it('resolves and fetches with the token, and names a rejected one without showing it', async () => {
    const repo = await git.createRepo('app', { 'a.yaml': 'x: 1\n' });
    const head = await repo.head();
    const remote = new GitRemoteRepository();
    const credentials = GitCredentials.fromPartial({ bearerToken: token });
    expect(await remote.lsRemote(repo.url, ['refs/heads/main'], credentials)).toContain(head);
    const source = new GitSource({ cacheDir, log });
    const c = await source.fetch({ url: repo.url, commit: head, credentials });
    expect(readFileSync(join(c.dir, 'a.yaml'), 'utf8')).toBe('x: 1\n');
    c.release();

    const wrong = GitCredentials.fromPartial({ bearerToken: 'gfb_wrong-token-42' });
    const err = await remote.lsRemote(repo.url, ['refs/heads/main'], wrong).catch((e: Error) => e);
    expect((err as Error).message).toContain(
      'authentication failed: the server rejected repo.credentials (the bearer token)',
    );
    expect((err as Error).message).not.toContain('gfb_wrong-token-42');
    const anon = await remote.lsRemote(repo.url, ['refs/heads/main']).catch((e: Error) => e);
    expect((anon as Error).message).toContain('authentication required');
  });
});

describe('the git cache byte budget', () => {
  let git: GitEnv;
  let cacheDir: string;
  beforeAll(async () => {
    git = await startGit();
    cacheDir = mkdtempSync(join(tmpdir(), 'gitfleet-lru-cache-'));
  });
  afterAll(async () => {
    await git?.stop();
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });

  it('removes the least recently used checkouts not in use once over budget', async () => {
    const big = (n: number) => ({ 'big.txt': `${n}`.repeat(40_000) });
    const a = await git.createRepo('lru-a', big(1));
    const b = await git.createRepo('lru-b', big(2));
    const c = await git.createRepo('lru-c', big(3));
    // room for two checkouts of ~40 kB
    const source = new GitSource({ cacheDir, log, cacheMaxBytes: 100_000 });
    const held = await source.fetch({ url: a.url, commit: await a.head() });
    const cb = await source.fetch({ url: b.url, commit: await b.head() });
    cb.release();
    const cc = await source.fetch({ url: c.url, commit: await c.head() });
    cc.release();
    // a is in use (never evicted) and b the least recently used of the rest
    expect(existsSync(held.dir)).toBe(true);
    expect(existsSync(cb.dir)).toBe(false);
    expect(existsSync(cc.dir)).toBe(true);
    held.release();
    const again = await source.fetch({ url: b.url, commit: await b.head() });
    expect(again.fetched).toBe(true);
    again.release();
    // now a is the least recently used and not in use
    expect(existsSync(held.dir)).toBe(false);
  });
});
