// Validation and defaults of a repo (pure).
import { DEFAULT_REPO_INTERVAL_SECONDS, type GitCredentials, type Repo } from '../../proto/index.js';
import {
  ValidationError,
  checkDnsLabel,
  checkGitUrl,
  quote,
  refNameProblem,
} from '../../proto/contract/validation.js';
import type { GitRef } from './git-ref.js';

// the URL and ref rules are the contract's: the agent checks every desired set with them too
export { checkGitUrl, refNameProblem };

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
  semver: string;
  intervalSeconds: number;
  credentials: GitCredentials | undefined;
}

export function validateRepo(input: Partial<Repo> | null | undefined): RepoSpec {
  if (!input) throw new ValidationError('repo', 'required');
  const tenant = checkDnsLabel('repo.tenant', input.tenant ?? '');
  const name = checkDnsLabel('repo.name', input.name ?? '');
  const type = input.type || 'git';
  if (type === 'oci') throw new ValidationError('repo.type', '"oci" is not supported yet (only "git")');
  if (type !== 'git') throw new ValidationError('repo.type', `${quote(type)} is not supported (only "git")`);
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
    if (problem) throw new ValidationError(`repo.${field}`, `${quote(value)} ${problem}`);
  }
  if (commit) {
    if (!/^[0-9a-fA-F]{40}$/.test(commit)) {
      throw new ValidationError('repo.commit', `${quote(commit)} is not a full 40-character commit SHA`);
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
    semver: '', // not accepted yet (SemVer ranges)
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
