// Validation and defaults of a repo (pure).
import semver from 'semver';
import { DEFAULT_REPO_INTERVAL_SECONDS, type GitCredentials, type Repo } from '../../proto/index.js';
import {
  ValidationError,
  checkDigest,
  checkDnsLabel,
  checkGitUrl,
  checkOciUrl,
  hasControlChars,
  quote,
  refNameProblem,
} from '../../proto/contract/validation.js';
import { TAG } from '../../lib/oci/oci-reference.js';
import type { GitRef } from './git-ref.js';

// the URL and ref rules are the contract's: the agent checks every desired set with them too
export { checkGitUrl, refNameProblem };

export const MIN_INTERVAL_SECONDS = 10;
export const MAX_INTERVAL_SECONDS = 86_400;
/** Longest SemVer range accepted (real ranges are a few dozen characters; semver caps versions at 256). */
export const MAX_SEMVER_LENGTH = 256;

export interface RepoSpec {
  tenant: string;
  name: string;
  /** "oci" when the URL is oci://, else "git". */
  type: 'git' | 'oci';
  url: string;
  branch: string;
  tag: string;
  commit: string;
  semver: string;
  /** OCI: the pinned manifest digest ("" unless pinned). */
  digest: string;
  intervalSeconds: number;
  credentials: GitCredentials | undefined;
}

export function validateRepo(input: Partial<Repo> | null | undefined): RepoSpec {
  if (!input) throw new ValidationError('repo', 'required');
  const tenant = checkDnsLabel('repo.tenant', input.tenant ?? '');
  const name = checkDnsLabel('repo.name', input.name ?? '');
  const isOciUrl = (input.url ?? '').startsWith('oci://');
  const type = input.type || (isOciUrl ? 'oci' : 'git');
  if (type !== 'git' && type !== 'oci')
    throw new ValidationError('repo.type', `${quote(type)} is not supported (only "git" or "oci")`);
  if (type === 'git' && isOciUrl)
    throw new ValidationError(
      'repo.type',
      'is "git" but the URL is oci://: leave the type empty or give "oci"',
    );
  const url =
    type === 'oci' ? checkOciUrl('repo.url', input.url ?? '') : checkGitUrl('repo.url', input.url ?? '');
  if (type === 'oci') {
    for (const field of ['branch', 'commit'] as const) {
      if (input[field])
        throw new ValidationError(
          `repo.${field}`,
          'an OCI repo has no ' + field + ': give a tag, semver or digest',
        );
    }
  } else if (input.digest) {
    throw new ValidationError(
      'repo.digest',
      'only an OCI repo (oci:// URL) has a digest: use commit for git',
    );
  }

  const branch = input.branch ?? '';
  const tag = input.tag ?? '';
  let commit = input.commit ?? '';
  const semverRange = checkSemverRange('repo.semver', input.semver ?? '');
  const digest = input.digest ? checkDigest('repo.digest', input.digest) : '';
  const set = [
    branch && 'branch',
    tag && 'tag',
    commit && 'commit',
    semverRange && 'semver',
    digest && 'digest',
  ].filter(Boolean);
  if (set.length > 1)
    throw new ValidationError(
      `repo.${set[1]}`,
      `give at most one of ${type === 'oci' ? 'tag, semver, digest' : 'branch, tag, commit, semver'} (got ${set.join(' and ')})`,
    );
  if (type === 'oci' && tag && !TAG.test(tag))
    throw new ValidationError(
      'repo.tag',
      `${quote(tag.slice(0, 80))} is not an OCI tag (letters, digits, . _ -; at most 128)`,
    );
  for (const [field, value] of [
    ['branch', branch],
    ['tag', tag],
  ] as const) {
    const problem = value && type === 'git' ? refNameProblem(value) : undefined;
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
    if (!/^(?:https?|oci):\/\//i.test(url)) {
      throw new ValidationError('repo.credentials', 'basic-auth credentials need an http(s) or oci URL');
    }
    credentials = { username: c.username, password: c.password };
  }

  return {
    tenant,
    name,
    type,
    url,
    branch: type === 'oci' ? '' : branch || (tag || commit || semverRange ? '' : 'main'),
    // an OCI repo without a ref follows "latest", as Flux's OCIRepository does
    tag: type === 'oci' && !tag && !semverRange && !digest ? 'latest' : tag,
    commit,
    semver: semverRange,
    digest,
    intervalSeconds,
    credentials,
  };
}

/**
 * A SemVer range over tags (">=1.0.0 <2.0.0", "^1.2", "~1.4.0-0"), as the semver package reads
 * it; "" when none. Refuses what semver cannot parse, control characters and more than
 * MAX_SEMVER_LENGTH characters (checked first: semver's parser never sees a huge string).
 */
export function checkSemverRange(field: string, range: string): string {
  if (range === '') return '';
  if (range.length > MAX_SEMVER_LENGTH)
    throw new ValidationError(field, `is ${range.length} characters long (at most ${MAX_SEMVER_LENGTH})`);
  if (hasControlChars(range)) throw new ValidationError(field, 'must not contain control characters');
  if (!range.trim()) throw new ValidationError(field, 'is blank: give a range such as ">=1.0.0 <2.0.0"');
  if (semver.validRange(range) === null) {
    throw new ValidationError(
      field,
      `${quote(range)} is not a SemVer range (e.g. ">=1.0.0 <2.0.0", "^1.2", "~1.4.0")`,
    );
  }
  return range.trim();
}

/** The ref a repo follows: its branch, tag, pinned commit or SemVer range ("main" when none is set). */
export function gitRefOf(repo: Pick<Repo, 'branch' | 'tag' | 'commit' | 'semver'>): GitRef {
  if (repo.commit) return { kind: 'commit', name: repo.commit };
  if (repo.semver) return { kind: 'semver', name: repo.semver };
  if (repo.tag) return { kind: 'tag', name: repo.tag };
  return { kind: 'branch', name: repo.branch || 'main' };
}
