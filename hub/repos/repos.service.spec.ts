import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { GitCredentials, type Repo, type Tenant } from '../../proto/index.js';
import { createLogger } from '../../lib/log.js';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  NotFoundError,
  ValidationError,
} from '../common/errors.js';
import type { DesiredService } from '../desired/desired.service.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { GitRemoteError, type GitRemote } from './git-remote.repository.js';
import type { ReposRepository, Resolution } from './repos.repository.js';
import { RepoResolver } from './repo.resolver.js';
import { ReposService } from './repos.service.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const T = 't'.repeat(40);

class FakeRepos {
  rows = new Map<string, Repo>();
  users = new Map<string, string[]>();
  async insert(r: Repo): Promise<void> {
    this.rows.set(`${r.tenant}/${r.name}`, { ...r });
  }
  async get(tenant: string, name: string, withCredentials = false): Promise<Repo | undefined> {
    const r = this.rows.get(`${tenant}/${name}`);
    return r && { ...r, credentials: withCredentials ? r.credentials : undefined };
  }
  async list(): Promise<Repo[]> {
    return [...this.rows.values()];
  }
  async usedBy(tenant: string, name: string): Promise<string[]> {
    return this.users.get(`${tenant}/${name}`) ?? [];
  }
  async delete(tenant: string, name: string): Promise<boolean> {
    return this.rows.delete(`${tenant}/${name}`);
  }
  async saveResolution(tenant: string, name: string, r: Resolution): Promise<boolean> {
    const row = this.rows.get(`${tenant}/${name}`);
    if (!row) return false;
    if (r.ok) Object.assign(row, { revision: r.revision, resolvedAtMs: r.atMs, resolveError: '' });
    else row.resolveError = r.error;
    return true;
  }
}

class FakeGit implements GitRemote {
  refs: Record<string, string> = { 'refs/heads/main': A };
  error: string | undefined;
  calls: Array<{ url: string; patterns: string[]; credentials?: GitCredentials }> = [];
  async lsRemote(url: string, patterns: string[], credentials?: GitCredentials): Promise<string> {
    this.calls.push({ url, patterns, credentials });
    if (this.error) throw new GitRemoteError(this.error);
    return Object.entries(this.refs)
      .filter(([ref]) => patterns.includes(ref))
      .map(([ref, sha]) => `${sha}\t${ref}\n`)
      .join('');
  }
}

describe('ReposService', () => {
  let repos: FakeRepos;
  let git: FakeGit;
  let projections: number;
  let service: ReposService;
  let resolver: RepoResolver;
  const tenant: Tenant = {
    name: 'team-a',
    namespaces: ['a'],
    serviceAccount: 's',
    clusterRole: 'r',
    allowedClusterKinds: [],
    vars: {},
    createdAtMs: 1,
  };

  beforeEach(() => {
    repos = new FakeRepos();
    git = new FakeGit();
    projections = 0;
    const tenants = {
      get: async (name: string) => {
        if (name !== 'team-a') throw new NotFoundError('tenant', name);
        return tenant;
      },
    } as unknown as TenantsService;
    const desired = { projectRepo: async () => void projections++ } as unknown as DesiredService;
    const log = createLogger('test', 'silent');
    resolver = new RepoResolver(
      repos as unknown as ReposRepository,
      git,
      { resolve: async () => Promise.reject(new Error('no OCI registry in this test')) },
      desired,
      { resolveIntervalSeconds: undefined },
      log,
    );
    service = new ReposService(repos as unknown as ReposRepository, tenants, resolver, log);
  });

  afterEach(() => resolver.onModuleDestroy());

  const spec = { tenant: 'team-a', name: 'app', url: 'https://git.example.com/app.git' };

  it('resolves the branch on create and re-projects', async () => {
    const r = await service.create(spec);
    expect(r.revision).toBe(`main@sha1:${A}`);
    expect(r.resolveError).toBe('');
    expect(r.resolvedAtMs).toBeGreaterThan(0);
    expect(git.calls[0].patterns).toEqual(['refs/heads/main']);
    expect(projections).toBe(1);
  });

  it('resolves a tag to its peeled commit', async () => {
    git.refs = { 'refs/tags/v1': T, 'refs/tags/v1^{}': B };
    expect((await service.create({ ...spec, tag: 'v1' })).revision).toBe(`v1@sha1:${B}`);
  });

  it('pins a commit without asking the remote', async () => {
    expect((await service.create({ ...spec, commit: B })).revision).toBe(`sha1:${B}`);
    expect(git.calls).toEqual([]);
  });

  it('re-projects only when the revision changes', async () => {
    await service.create(spec);
    await service.resolve('team-a', 'app');
    expect(projections).toBe(1);
    git.refs['refs/heads/main'] = B;
    expect((await service.resolve('team-a', 'app')).revision).toBe(`main@sha1:${B}`);
    expect(projections).toBe(2);
  });

  it('keeps the last good revision when resolution fails, naming repo and url', async () => {
    await service.create(spec);
    git.error = 'git ls-remote https://git.example.com/app.git: fatal: repository not found';
    const r = await service.resolve('team-a', 'app');
    expect(r.revision).toBe(`main@sha1:${A}`);
    expect(r.resolveError).toBe(
      'repo "team-a/app": git ls-remote https://git.example.com/app.git: fatal: repository not found',
    );
    git.error = undefined;
    expect((await service.resolve('team-a', 'app')).resolveError).toBe('');
  });

  it('reports a missing branch', async () => {
    const r = await service.create({ ...spec, branch: 'release' });
    expect(r.revision).toBe('');
    expect(r.resolveError).toBe(
      'repo "team-a/app": branch "release" not found at https://git.example.com/app.git',
    );
  });

  it('passes credentials to the remote, never returns them, and scrubs them from errors', async () => {
    const creds = GitCredentials.fromPartial({ username: 'bot', password: 'hunter2' });
    const r = await service.create({ ...spec, credentials: creds });
    expect(git.calls[0].credentials).toEqual(creds);
    expect(r.credentials).toBeUndefined();
    expect(r.hasCredentials).toBe(true);
    git.error = 'auth failed for hunter2';
    const failed = await service.resolve('team-a', 'app');
    expect(failed.resolveError).not.toContain('hunter2');
    expect(JSON.stringify(await service.list(''))).not.toContain('hunter2');
  });

  it('answers with the gRPC-mapped errors', async () => {
    await expect(service.create({ ...spec, tenant: 'nobody' })).rejects.toThrow(NotFoundError);
    await expect(service.create({ ...spec, url: 'ftp://x' })).rejects.toThrow(ValidationError);
    await service.create(spec);
    await expect(service.create(spec)).rejects.toThrow(AlreadyExistsError);
    await expect(service.get('team-a', 'nope')).rejects.toThrow('repo "team-a/nope" not found');
    repos.users.set('team-a/app', ['web']);
    await expect(service.delete('team-a', 'app')).rejects.toThrow(FailedPreconditionError);
    await expect(service.delete('team-a', 'app')).rejects.toThrow(
      'repo "team-a/app" is used by assignments web',
    );
    repos.users.clear();
    await service.delete('team-a', 'app');
    expect(repos.rows.size).toBe(0);
  });

  it('coalesces concurrent resolutions of one repo', async () => {
    await service.create(spec);
    git.calls = [];
    await Promise.all([1, 2, 3, 4, 5].map(() => service.resolve('team-a', 'app')));
    expect(git.calls.length).toBeLessThanOrEqual(2);
  });
});
