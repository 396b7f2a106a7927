// Validation and defaults of a repo (pure).
import { DEFAULT_REPO_INTERVAL_SECONDS, type GitCredentials, type Repo } from '../../proto/index.js';
import { ValidationError } from '../common/errors.js';
import { checkDnsLabel, hasControlChars } from '../common/names.js';
import type { GitRef } from './git-ref.js';

export const MIN_INTERVAL_SECONDS = 10;
export const MAX_INTERVAL_SECONDS = 86_400;

export interface RepoSpec {
  tenant: string;
  name: string;
  type: 'git';
  url: string;
  branch: string;
  tag: string;
  commit: string;
  intervalSeconds: number;
  credentials: GitCredentials | undefined;
}

const SCP_LIKE = /^(?:[A-Za-z0-9._~-]+@)?[A-Za-z0-9][A-Za-z0-9.-]*:(?!\/\/)[^\s]+$/;

/** Checks a git remote URL: http(s)://, ssh://, git:// or scp-like user@host:path. */
export function checkGitUrl(field: string, url: string): string {
  const bad = (why: string): never => {
    throw new ValidationError(field, why);
  };
  if (!url) bad('required');
  if (/\s/.test(url) || hasControlChars(url)) bad('must not contain spaces or control characters');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (SCP_LIKE.test(url)) return url;
    bad('must be an http(s), ssh or git URL (e.g. https://host/org/repo.git or git@host:org/repo.git)');
  }
  if (!['http', 'https', 'ssh', 'git'].includes(scheme!)) bad('must be an http(s), ssh or git URL');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return bad('is not a valid URL');
  }
  if (!parsed.hostname) bad('has no host');
  if (parsed.password || (parsed.username && scheme !== 'ssh')) {
    bad('must not contain credentials: put them in repo.credentials');
  }
  return url;
}

/** Why `name` is not usable as a branch or tag name, or undefined (a subset of git check-ref-format). */
export function refNameProblem(name: string): string | undefined {
  if (name.startsWith('refs/')) return 'give the short name, without "refs/heads/" or "refs/tags/"';
  if (name.startsWith('-')) return 'must not start with "-"';
  if (hasControlChars(name) || /[ ~^:?*[\\]/.test(name))
    return 'contains a character git does not allow in ref names';
  if (name.includes('..') || name.includes('@{') || name.includes('//') || name === '@') {
    return 'is not a valid git ref name';
  }
  if (name.startsWith('/') || name.endsWith('/') || name.endsWith('.') || name.endsWith('.lock')) {
    return 'is not a valid git ref name';
  }
  if (name.split('/').some((part) => part.startsWith('.'))) return 'is not a valid git ref name';
  if (name.length > 255) return 'is too long';
  return undefined;
}

export function validateRepo(input: Partial<Repo> | null | undefined): RepoSpec {
  if (!input) throw new ValidationError('repo', 'required');
  const tenant = checkDnsLabel('repo.tenant', input.tenant ?? '');
  const name = checkDnsLabel('repo.name', input.name ?? '');
  const type = input.type || 'git';
  if (type === 'oci') throw new ValidationError('repo.type', '"oci" is not supported yet (only "git")');
  if (type !== 'git')
    throw new ValidationError('repo.type', `${JSON.stringify(type)} is not supported (only "git")`);
  const url = checkGitUrl('repo.url', input.url ?? '');

  const branch = input.branch ?? '';
  const tag = input.tag ?? '';
  let commit = input.commit ?? '';
  const set = [branch && 'branch', tag && 'tag', commit && 'commit'].filter(Boolean);
  if (set.length > 1)
    throw new ValidationError(
      `repo.${set[1]}`,
      `give at most one of branch, tag, commit (got ${set.join(' and ')})`,
    );
  for (const [field, value] of [
    ['branch', branch],
    ['tag', tag],
  ] as const) {
    const problem = value ? refNameProblem(value) : undefined;
    if (problem) throw new ValidationError(`repo.${field}`, `${JSON.stringify(value)} ${problem}`);
  }
  if (commit) {
    if (!/^[0-9a-fA-F]{40}$/.test(commit)) {
      throw new ValidationError(
        'repo.commit',
        `${JSON.stringify(commit)} is not a full 40-character commit SHA`,
      );
    }
    commit = commit.toLowerCase();
  }

  const interval = input.intervalSeconds ?? 0;
  const intervalSeconds = interval === 0 ? DEFAULT_REPO_INTERVAL_SECONDS : interval;
  if (
    !Number.isInteger(intervalSeconds) ||
    intervalSeconds < MIN_INTERVAL_SECONDS ||
    intervalSeconds > MAX_INTERVAL_SECONDS
  ) {
    throw new ValidationError(
      'repo.interval_seconds',
      `must be between ${MIN_INTERVAL_SECONDS} and ${MAX_INTERVAL_SECONDS} seconds (0 = ${DEFAULT_REPO_INTERVAL_SECONDS}), got ${interval}`,
    );
  }

  let credentials: GitCredentials | undefined;
  const c = input.credentials;
  if (c && (c.username || c.password)) {
    if (!c.username) throw new ValidationError('repo.credentials.username', 'required with a password');
    if (!c.password) throw new ValidationError('repo.credentials.password', 'required with a username');
    if (/[\r\n]/.test(c.username) || c.username.includes(':')) {
      throw new ValidationError('repo.credentials.username', "must not contain ':' or line breaks");
    }
    if (/[\r\n]/.test(c.password))
      throw new ValidationError('repo.credentials.password', 'must not contain line breaks');
    if (!/^https?:\/\//i.test(url)) {
      throw new ValidationError('repo.credentials', 'basic-auth credentials need an http(s) URL');
    }
    credentials = { username: c.username, password: c.password };
  }

  return {
    tenant,
    name,
    type: 'git',
    url,
    branch: branch || (tag || commit ? '' : 'main'),
    tag,
    commit,
    intervalSeconds,
    credentials,
  };
}

/** The ref a repo follows: its branch, tag or pinned commit ("main" when none is set). */
export function gitRefOf(repo: Pick<Repo, 'branch' | 'tag' | 'commit'>): GitRef {
  if (repo.commit) return { kind: 'commit', name: repo.commit };
  if (repo.tag) return { kind: 'tag', name: repo.tag };
  return { kind: 'branch', name: repo.branch || 'main' };
}
