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

/** A repo as callers give it: any field may be missing, credentials too. */
export type RepoInput = Omit<Partial<Repo>, 'credentials'> & { credentials?: Partial<GitCredentials> };

export function validateRepo(input: RepoInput | null | undefined): RepoSpec {
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

  const credentials = validateCredentials(input.credentials, url);

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

/** Longest bearer token accepted (real ones are up to a few hundred characters; JWTs a few kB). */
export const MAX_BEARER_TOKEN_LENGTH = 8 * 1024;
/** Largest deploy key accepted (an RSA-4096 key in PEM is about 3.3 kB). */
export const MAX_SSH_KEY_LENGTH = 16 * 1024;
/** Largest known_hosts accepted. */
export const MAX_KNOWN_HOSTS_LENGTH = 64 * 1024;

const SSH_URL = /^ssh:\/\//i;
const HTTP_URL = /^https?:\/\//i;
// basic auth also reaches an OCI registry (its HTTP API)
const BASIC_AUTH_URL = /^(?:https?|oci):\/\//i;
// an SSH URL or the scp-like form (git@host:path): what checkGitUrl accepts without a scheme
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const PRIVATE_KEY_BLOCK =
  /^-----BEGIN (OPENSSH|RSA|EC|DSA|ENCRYPTED)? ?PRIVATE KEY-----\n[A-Za-z0-9+/=:,\- \n]+-----END (OPENSSH|RSA|EC|DSA|ENCRYPTED)? ?PRIVATE KEY-----\n?$/;

/**
 * A repo's credentials, one kind at a time: HTTP basic (username + password) or a bearer token
 * for http(s) URLs; an SSH deploy key with the known_hosts that pins the host for SSH URLs.
 * Undefined when none is given (an update then keeps the stored ones).
 */
export function validateCredentials(
  c: Partial<GitCredentials> | undefined,
  url: string,
): GitCredentials | undefined {
  const username = c?.username ?? '';
  const password = c?.password ?? '';
  const bearerToken = c?.bearerToken ?? '';
  const sshPrivateKey = c?.sshPrivateKey ?? '';
  const knownHosts = c?.knownHosts ?? '';
  const kinds = [
    (username || password) && 'username/password',
    bearerToken && 'bearer_token',
    (sshPrivateKey || knownHosts) && 'ssh_private_key',
  ].filter(Boolean);
  if (kinds.length === 0) return undefined;
  if (kinds.length > 1)
    throw new ValidationError(
      'repo.credentials',
      `give one kind of credentials (got ${kinds.join(' and ')})`,
    );
  const isSsh = SSH_URL.test(url) || !SCHEME.test(url);
  const empty = { username: '', password: '', bearerToken: '', sshPrivateKey: '', knownHosts: '' };

  if (username || password) {
    if (!username) throw new ValidationError('repo.credentials.username', 'required with a password');
    if (!password) throw new ValidationError('repo.credentials.password', 'required with a username');
    if (/[\r\n]/.test(username) || username.includes(':')) {
      throw new ValidationError('repo.credentials.username', "must not contain ':' or line breaks");
    }
    if (/[\r\n]/.test(password))
      throw new ValidationError('repo.credentials.password', 'must not contain line breaks');
    if (!BASIC_AUTH_URL.test(url)) {
      throw new ValidationError('repo.credentials', 'basic-auth credentials need an http(s) or oci URL');
    }
    return { ...empty, username, password };
  }

  if (bearerToken) {
    if (!HTTP_URL.test(url))
      throw new ValidationError('repo.credentials.bearer_token', 'a bearer token needs an http(s) URL');
    if (bearerToken.length > MAX_BEARER_TOKEN_LENGTH)
      throw new ValidationError(
        'repo.credentials.bearer_token',
        `is ${bearerToken.length} characters long (at most ${MAX_BEARER_TOKEN_LENGTH})`,
      );
    // a header value: visible ASCII only, so nothing can end the header and start another
    if (!/^[\x21-\x7e]+$/.test(bearerToken))
      throw new ValidationError(
        'repo.credentials.bearer_token',
        'must be one line of visible ASCII characters (no spaces, line breaks or control characters)',
      );
    return { ...empty, bearerToken };
  }

  if (!isSsh)
    throw new ValidationError(
      'repo.credentials.ssh_private_key',
      'an SSH key needs an ssh URL (ssh://git@host/org/repo.git or git@host:org/repo.git)',
    );
  if (!sshPrivateKey)
    throw new ValidationError(
      'repo.credentials.ssh_private_key',
      'required with known_hosts (--ssh-key-file)',
    );
  if (!knownHosts.trim())
    throw new ValidationError(
      'repo.credentials.known_hosts',
      "required with an SSH key: the server's host keys, as `ssh-keyscan -p PORT HOST` prints them (--known-hosts-file)",
    );
  if (sshPrivateKey.length > MAX_SSH_KEY_LENGTH)
    throw new ValidationError(
      'repo.credentials.ssh_private_key',
      `is ${sshPrivateKey.length} bytes long (at most ${MAX_SSH_KEY_LENGTH})`,
    );
  const key = sshPrivateKey.replace(/\r\n?/g, '\n').trim() + '\n';
  if (!PRIVATE_KEY_BLOCK.test(key))
    throw new ValidationError(
      'repo.credentials.ssh_private_key',
      'is not a private key: give the whole file, from "-----BEGIN ... PRIVATE KEY-----" to its END line (not the .pub file)',
    );
  if (/Proc-Type: 4,ENCRYPTED|BEGIN ENCRYPTED PRIVATE KEY/.test(key) || opensshKeyEncrypted(key))
    throw new ValidationError(
      'repo.credentials.ssh_private_key',
      'is protected by a passphrase: a deploy key must be unencrypted (the hub stores it sealed)',
    );
  if (knownHosts.length > MAX_KNOWN_HOSTS_LENGTH)
    throw new ValidationError(
      'repo.credentials.known_hosts',
      `is ${knownHosts.length} bytes long (at most ${MAX_KNOWN_HOSTS_LENGTH})`,
    );
  const lines = knownHosts.replace(/\r\n?/g, '\n').split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    // [@marker] hosts keytype base64-key [comment]
    const fields = line.split(/\s+/);
    const at = fields[0]?.startsWith('@') ? 1 : 0;
    if (
      hasControlChars(line) ||
      fields.length < at + 3 ||
      !/^[A-Za-z0-9+/]+={0,3}$/.test(fields[at + 2] ?? '')
    )
      throw new ValidationError(
        'repo.credentials.known_hosts',
        `line ${i + 1} is not a known_hosts entry ("host key-type base64-key", as ssh-keyscan prints)`,
      );
  }
  return { ...empty, sshPrivateKey: key, knownHosts: lines.join('\n').trim() + '\n' };
}

/** Whether an OpenSSH-format key has a cipher other than "none" (passphrase-protected). */
function opensshKeyEncrypted(pem: string): boolean {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----\n([\s\S]*?)-----END/.exec(pem);
  if (!m) return false;
  const bin = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  // "openssh-key-v1\0", then string ciphername (uint32 length + bytes)
  const magic = 'openssh-key-v1\0';
  if (bin.length < magic.length + 4 || bin.subarray(0, magic.length).toString('latin1') !== magic)
    return false;
  const len = bin.readUInt32BE(magic.length);
  return bin.subarray(magic.length + 4, magic.length + 4 + len).toString('latin1') !== 'none';
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
