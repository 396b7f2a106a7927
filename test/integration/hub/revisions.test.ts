// Revision resolution against a real git server (smart HTTP, with and without basic auth).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { requireBinary, startGit, startNats, type GitEnv, type NatsEnv } from '../../env/index.js';
import { run } from '../../env/binaries.js';
import { eventually, startTestHub, tempDir, type TestHub } from './harness.js';

// real servers: `testTimeout` in a jest project config is not honoured, so set it here
describe('repo revision resolution', () => {
  let nats: NatsEnv | undefined;
  let git: GitEnv | undefined;
  let privateGit: GitEnv | undefined;
  let t: TestHub | undefined;
  const tmp = tempDir('gitfleet-hub-rev-');

  beforeAll(async () => {
    nats = await startNats();
    git = await startGit();
    privateGit = await startGit({ username: 'bot', password: 'hunter2-secret' });
    // the scheduler re-resolves every repo each second here
    t = await startTestHub({ natsUrl: nats.url, db: `${tmp.dir}/hub.db`, resolveIntervalSeconds: 1 });
    await t.client.tenants.createTenant({ tenant: { name: 'team-a', namespaces: ['team-a'] } });
  });

  afterAll(async () => {
    await t?.stop();
    await git?.stop();
    await privateGit?.stop();
    await nats?.destroy();
    tmp.remove();
  });

  it("resolves a branch to the server's head and follows new commits on ResolveRepo", async () => {
    const repo = await git!.createRepo('app', { 'deploy/a.yaml': 'a: 1\n' });
    const created = await t!.client.repos.createRepo({
      repo: { tenant: 'team-a', name: 'app', url: repo.url },
    });
    expect(created.revision).toBe(`main@sha1:${await repo.head()}`);
    expect(created.resolveError).toBe('');

    const next = await repo.commit({ 'deploy/a.yaml': 'a: 2\n' });
    const resolved = await t!.client.repos.resolveRepo({ tenant: 'team-a', name: 'app' });
    expect(resolved.revision).toBe(`main@sha1:${next}`);
    expect(resolved.resolvedAtMs).toBeGreaterThanOrEqual(created.resolvedAtMs);
  });

  it('picks up new commits on its own (scheduled resolution)', async () => {
    const repo = await git!.createRepo('auto', { 'a.yaml': 'a: 1\n' });
    await t!.client.repos.createRepo({ repo: { tenant: 'team-a', name: 'auto', url: repo.url } });
    const next = await repo.commit({ 'a.yaml': 'a: 2\n' });
    await eventually(async () => {
      const r = await t!.client.repos.getRepo({ tenant: 'team-a', name: 'auto' });
      return r.revision === `main@sha1:${next}`;
    });
  });

  it('resolves other branches, lightweight tags and the commit of annotated tags; pins commits', async () => {
    const repo = await git!.createRepo('tags', { 'a.yaml': 'a: 1\n' }, { branch: 'trunk' });
    const first = await repo.head();
    await repo.tag('v1', true);
    await repo.tag('light');
    const { repos } = t!.client;
    expect(
      (await repos.createRepo({ repo: { tenant: 'team-a', name: 'trunk', url: repo.url, branch: 'trunk' } }))
        .revision,
    ).toBe(`trunk@sha1:${first}`);
    expect(
      (await repos.createRepo({ repo: { tenant: 'team-a', name: 'v1', url: repo.url, tag: 'v1' } })).revision,
    ).toBe(`v1@sha1:${first}`);
    expect(
      (await repos.createRepo({ repo: { tenant: 'team-a', name: 'light', url: repo.url, tag: 'light' } }))
        .revision,
    ).toBe(`light@sha1:${first}`);
    const pinned = 'f'.repeat(40);
    expect(
      (await repos.createRepo({ repo: { tenant: 'team-a', name: 'pinned', url: repo.url, commit: pinned } }))
        .revision,
    ).toBe(`sha1:${pinned}`);
  });

  it('reports a missing branch and an unknown repository', async () => {
    const repo = await git!.createRepo('refs', { 'a.yaml': 'a: 1\n' });
    const { repos } = t!.client;
    const missing = await repos.createRepo({
      repo: { tenant: 'team-a', name: 'nobranch', url: repo.url, branch: 'nope' },
    });
    expect(missing.revision).toBe('');
    expect(missing.resolveError).toBe(`repo "team-a/nobranch": branch "nope" not found at ${repo.url}`);

    const gone = await repos.createRepo({
      repo: { tenant: 'team-a', name: 'gone', url: `${git!.baseUrl}/gone.git` },
    });
    expect(gone.revision).toBe('');
    expect(gone.resolveError).toMatch(
      /^repo "team-a\/gone": git ls-remote http:\/\/127\.0\.0\.1:\d+\/gone\.git: /,
    );
  });

  it('follows the highest tag in a SemVer range, annotated tags and prereleases included', async () => {
    const repo = await git!.createRepo('semver', { 'a.yaml': 'a: 0\n' });
    const commitTagged = async (tag: string, annotated = false): Promise<string> => {
      const sha = await repo.commit({ 'a.yaml': `a: ${JSON.stringify(tag)}\n` });
      await repo.tag(tag, annotated);
      return sha;
    };
    await commitTagged('v1.0.0');
    const v120 = await commitTagged('v1.2.0', true); // annotated: resolves to the commit
    await commitTagged('v2.0.0');
    const rc = await commitTagged('v1.5.0-rc.1');
    await commitTagged('not-semver');
    // tags that look like options (git tag refuses them; a server can still hold them)
    const bare = join(git!.root, 'semver.git');
    for (const tag of ['-v1.9.0', '--upload-pack=1.9.0'])
      run(requireBinary('git'), ['update-ref', `refs/tags/${tag}`, rc], { cwd: bare });

    const { repos } = t!.client;
    const created = await repos.createRepo({
      repo: { tenant: 'team-a', name: 'semver', url: repo.url, semver: '>=1.0.0 <2.0.0' },
    });
    expect(created).toMatchObject({ semver: '>=1.0.0 <2.0.0', branch: '', tag: '', resolveError: '' });
    expect(created.revision).toBe(`v1.2.0@sha1:${v120}`);

    // a new release in range moves it (ResolveRepo, as a webhook would)
    const v130 = await commitTagged('v1.3.0');
    const moved = await repos.resolveRepo({ tenant: 'team-a', name: 'semver' });
    expect(moved.revision).toBe(`v1.3.0@sha1:${v130}`);

    // a prerelease only when the range names one
    const pre = await repos.updateRepo({
      repo: { tenant: 'team-a', name: 'semver', url: repo.url, semver: '>=1.5.0-0 <2.0.0' },
    });
    expect(pre.revision).toBe(`v1.5.0-rc.1@sha1:${rc}`);

    // nothing matches: the error names the range and the newest tags; the last good revision stays
    const none = await repos.updateRepo({
      repo: { tenant: 'team-a', name: 'semver', url: repo.url, semver: '>=3.0.0' },
    });
    expect(none.revision).toBe(`v1.5.0-rc.1@sha1:${rc}`);
    expect(none.resolveError).toBe(
      `repo "team-a/semver": no tag matches semver ">=3.0.0" at ${repo.url} (newest tags: "v2.0.0", "v1.5.0-rc.1", "v1.3.0", "v1.2.0", "v1.0.0")`,
    );
    const listed = (await repos.listRepos({ tenant: 'team-a' })).repos.find((r) => r.name === 'semver');
    expect(listed).toMatchObject({ semver: '>=3.0.0', revision: `v1.5.0-rc.1@sha1:${rc}` });
  });

  it('refuses invalid, huge and option-like SemVer ranges, and a range beside another ref', async () => {
    const { repos } = t!.client;
    const url = `${git!.baseUrl}/semver.git`;
    const attempt = (semver: string, extra: Record<string, string> = {}) =>
      repos.createRepo({ repo: { tenant: 'team-a', name: 'bad-range', url, semver, ...extra } }).then(
        () => 'created',
        (err: Error) => err.message,
      );
    expect(await attempt('latest')).toContain('repo.semver: "latest" is not a SemVer range');
    expect(await attempt('--upload-pack=/bin/sh')).toContain(
      'repo.semver: "--upload-pack=/bin/sh" is not a SemVer range',
    );
    expect(await attempt('^1.0.0 '.repeat(50_000))).toContain('repo.semver: is 350000 characters long');
    expect(await attempt('^1.0.0', { tag: 'v1.0.0' })).toContain(
      'repo.semver: give at most one of branch, tag, commit, semver (got tag and semver)',
    );
    await expect(repos.getRepo({ tenant: 'team-a', name: 'bad-range' })).rejects.toThrow('not found');
  });

  it('keeps the last good revision when the server goes away', async () => {
    const other = await startGit();
    try {
      const repo = await other.createRepo('moving', { 'a.yaml': 'a: 1\n' });
      const { repos } = t!.client;
      const created = await repos.createRepo({ repo: { tenant: 'team-a', name: 'moving', url: repo.url } });
      await other.stop();
      const after = await repos.resolveRepo({ tenant: 'team-a', name: 'moving' });
      expect(after.revision).toBe(created.revision);
      expect(after.resolveError).toContain('repo "team-a/moving": git ls-remote');
      expect(after.resolveError).toContain(repo.url);
    } finally {
      await other.stop().catch(() => undefined);
    }
  });

  it('uses basic-auth credentials and never leaks them', async () => {
    const repo = await privateGit!.createRepo('private', { 'a.yaml': 'a: 1\n' });
    const { repos } = t!.client;
    const ok = await repos.createRepo({
      repo: {
        tenant: 'team-a',
        name: 'private',
        url: repo.url,
        credentials: { username: 'bot', password: 'hunter2-secret' },
      },
    });
    expect(ok.revision).toBe(`main@sha1:${await repo.head()}`);
    expect(ok.hasCredentials).toBe(true);

    const noCreds = await repos.createRepo({
      repo: { tenant: 'team-a', name: 'private-anon', url: repo.url },
    });
    expect(noCreds.revision).toBe('');
    expect(noCreds.resolveError).toBe(
      `repo "team-a/private-anon": git ls-remote ${repo.url}: authentication required: the server asks for credentials (set repo.credentials)`,
    );

    const wrong = await repos.createRepo({
      repo: {
        tenant: 'team-a',
        name: 'private-wrong',
        url: repo.url,
        credentials: { username: 'bot', password: 'wrong-pw-123' },
      },
    });
    expect(wrong.revision).toBe('');
    expect(wrong.resolveError).toContain(
      'authentication failed: the server rejected repo.credentials (the username and password)',
    );
    expect(wrong.resolveError).not.toContain('wrong-pw-123');
    expect(wrong.resolveError).not.toContain(Buffer.from('bot:wrong-pw-123').toString('base64'));
    const all = JSON.stringify(await repos.listRepos({ tenant: 'team-a' }));
    expect(all).not.toContain('hunter2-secret');
    expect(all).not.toContain('wrong-pw-123');
  });
});
