// The environment every git child process runs with, on the hub (`git ls-remote`) and on the
// agent (fetch, checkout): never prompts or asks a helper for credentials, reads no system or
// inherited configuration, speaks only network protocols we allow, and in the C locale (callers
// read its stderr). Credentials travel as an HTTP header in GIT_CONFIG_* variables: never in
// process arguments, which other users of the machine can read. An SSH deploy key and its
// known_hosts go to 0600 files in a private temp dir named by GIT_SSH_COMMAND, removed by
// GitSession.close(). openGitSession() is the one way hub and agent build all of this.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scrubSecrets } from './redact.js';

export interface GitEnvOptions {
  /** "Authorization: …" header for HTTP remotes (see basicAuthHeader). */
  header?: string;
  /** Send the header only to this origin ("https://host/"); without it, to every HTTP request. */
  headerOrigin?: string;
  /** Wire protocol version (default 2; 0 for servers whose v2 is broken). */
  protocolVersion?: 0 | 1 | 2;
  /** The ssh command git runs (default "ssh -o BatchMode=yes", or the parent's GIT_SSH_COMMAND). */
  sshCommand?: string;
}

/** The header value of HTTP basic authentication, and its token (a secret to scrub from messages). */
export function basicAuthHeader(username: string, password: string): { header: string; token: string } {
  const token = Buffer.from(`${username}:${password}`).toString('base64');
  return { header: `Authorization: Basic ${token}`, token };
}

export function gitEnv(opts: GitEnvOptions = {}, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const config: Array<[string, string]> = [
    ['credential.helper', ''],
    ['protocol.version', String(opts.protocolVersion ?? 2)],
    ['advice.detachedHead', 'false'],
    ['core.hooksPath', '/dev/null'],
    // a second wall behind GIT_ALLOW_PROTOCOL: never read local repositories or run remote helpers
    ['protocol.file.allow', 'never'],
    ['protocol.ext.allow', 'never'],
  ];
  if (opts.header) {
    config.push([
      opts.headerOrigin ? `http.${opts.headerOrigin}.extraHeader` : 'http.extraHeader',
      opts.header,
    ]);
  }
  const env: NodeJS.ProcessEnv = {};
  // configuration (GIT_CONFIG_*) and a repository (GIT_DIR) of the parent must not leak in
  for (const [k, v] of Object.entries(base)) if (!k.startsWith('GIT_CONFIG_') && k !== 'GIT_DIR') env[k] = v;
  Object.assign(env, {
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GIT_SSH_COMMAND: opts.sshCommand ?? base.GIT_SSH_COMMAND ?? 'ssh -o BatchMode=yes',
    GIT_ALLOW_PROTOCOL: 'http:https:ssh:git',
    GIT_CONFIG_NOSYSTEM: '1',
    // give up on a transfer that stalls below 1 kB/s for 30 s
    GIT_HTTP_LOW_SPEED_LIMIT: '1000',
    GIT_HTTP_LOW_SPEED_TIME: '30',
    GIT_CONFIG_COUNT: String(config.length),
  });
  config.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  return env;
}

/** The credential fields of a repo (the contract's GitCredentials; lib/ does not import proto/). */
export interface GitCredentialFields {
  username?: string;
  password?: string;
  bearerToken?: string;
  sshPrivateKey?: string;
  knownHosts?: string;
}

/** How a session authenticates: what its failure messages talk about. */
export type GitAuthKind = 'none' | 'basic' | 'bearer' | 'ssh';

export interface GitSession {
  /** The URL to pass to git: http(s) user info taken off (it travels in the header instead). */
  url: string;
  env: NodeJS.ProcessEnv;
  kind: GitAuthKind;
  /** Literal secrets to scrub from every message (tokens, passwords, the key). */
  secrets: string[];
  /** Removes the key and known_hosts files (idempotent). */
  close(): Promise<void>;
}

export interface GitSessionOptions {
  protocolVersion?: 0 | 1 | 2;
  /** Where the key's private temp dir is made (default the OS temp dir). */
  tmpDir?: string;
  base?: NodeJS.ProcessEnv;
}

const HTTP_URL = /^https?:\/\//i;

/** The URL to show and to pass to git: http(s) user info taken off, other URLs scrubbed. */
export function publicGitUrl(url: string): string {
  if (!HTTP_URL.test(url)) return scrubSecrets(url);
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

/**
 * The environment of git commands against one remote with its credentials: basic auth or a
 * bearer token as an Authorization header scoped to the URL's origin; an SSH deploy key with
 * strict host-key checking against the given known_hosts only (no agent, no user ssh config, no
 * prompt). Credentials embedded in an http(s) URL are used when none are given, and taken off the
 * URL. Call close() when the git commands are done.
 */
export async function openGitSession(
  url: string,
  credentials: GitCredentialFields | undefined,
  opts: GitSessionOptions = {},
): Promise<GitSession> {
  const c = credentials ?? {};
  let clean: string;
  let origin: string | undefined;
  let user = c.username ?? '';
  let pass = c.password ?? '';
  if (HTTP_URL.test(url)) {
    const u = new URL(url);
    if (!credentials && (u.username || u.password)) {
      user = decodeURIComponent(u.username);
      pass = decodeURIComponent(u.password);
    }
    u.username = '';
    u.password = '';
    clean = u.toString();
    origin = `${u.protocol}//${u.host}/`;
  } else {
    // the user of an ssh URL ("git@") is the login, not a secret: git needs it (validation
    // refuses a password there)
    clean = url;
  }
  const base = { protocolVersion: opts.protocolVersion };
  const none = async () => undefined;
  if (c.sshPrivateKey) {
    const dir = await mkdtemp(join(opts.tmpDir ?? tmpdir(), 'gitfleet-ssh-'));
    const key = join(dir, 'id');
    const knownHosts = join(dir, 'known_hosts');
    try {
      // OpenSSH refuses a key file without its final newline ("invalid format")
      await writeFile(key, normalizeLines(c.sshPrivateKey), { mode: 0o600 });
      await writeFile(knownHosts, normalizeLines(c.knownHosts ?? ''), { mode: 0o600 });
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return {
      url: clean,
      kind: 'ssh',
      env: gitEnv({ ...base, sshCommand: sshCommand(key, knownHosts) }, opts.base),
      secrets: [c.sshPrivateKey.trim()],
      close: () => rm(dir, { recursive: true, force: true }),
    };
  }
  if (c.bearerToken) {
    return {
      url: clean,
      kind: 'bearer',
      env: gitEnv(
        { ...base, header: `Authorization: Bearer ${c.bearerToken}`, headerOrigin: origin },
        opts.base,
      ),
      secrets: [c.bearerToken],
      close: none,
    };
  }
  if (user || pass) {
    const { header, token } = basicAuthHeader(user, pass);
    return {
      url: clean,
      kind: 'basic',
      env: gitEnv({ ...base, header, headerOrigin: origin }, opts.base),
      secrets: [token, pass].filter((s) => s.length >= 3),
      close: none,
    };
  }
  return { url: clean, kind: 'none', env: gitEnv(base, opts.base), secrets: [], close: none };
}

/**
 * ssh with this key only and these host keys only: -F /dev/null ignores the user's ssh config
 * (a ProxyCommand there would run), IdentitiesOnly and IdentityAgent=none keep agent keys out,
 * StrictHostKeyChecking=yes refuses unknown and changed host keys, BatchMode never prompts.
 */
export function sshCommand(keyFile: string, knownHostsFile: string): string {
  return [
    'ssh',
    '-F /dev/null',
    `-i ${shellQuote(keyFile)}`,
    '-o IdentitiesOnly=yes',
    '-o IdentityAgent=none',
    `-o UserKnownHostsFile=${shellQuote(knownHostsFile)}`,
    '-o GlobalKnownHostsFile=/dev/null',
    '-o StrictHostKeyChecking=yes',
    '-o BatchMode=yes',
    '-o ConnectTimeout=15',
  ].join(' ');
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function normalizeLines(text: string): string {
  const t = text.replace(/\r\n?/g, '\n');
  return t.endsWith('\n') ? t : `${t}\n`;
}

/**
 * Why a git command against a remote failed, in one line a user can act on, from git's stderr:
 * host-key mismatch, rejected credentials, unreachable host; undefined when stderr says none of
 * these (the caller shows git's last lines). Never contains stderr itself.
 */
export function gitFailureReason(stderr: string, kind: GitAuthKind): string | undefined {
  if (
    /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed|No \S+ host key is known/i.test(
      stderr,
    )
  )
    return "host key verification failed: the server's host key does not match repo known_hosts (check --known-hosts-file)";
  if (/Permission denied \(publickey/i.test(stderr))
    return kind === 'ssh'
      ? 'authentication failed: the server rejected the SSH deploy key (check --ssh-key-file and that the key is authorized)'
      : 'authentication failed: the server asks for an SSH key (give --ssh-key-file and --known-hosts-file)';
  if (/Load key .*(invalid format|error in libcrypto)|invalid format/i.test(stderr) && kind === 'ssh')
    return 'the SSH deploy key could not be read: give an unencrypted private key in OpenSSH or PEM format';
  if (
    /could not read (Username|Password)|Authentication failed|HTTP 40[13]|returned error: 40[13]/i.test(
      stderr,
    )
  ) {
    if (kind === 'bearer')
      return 'authentication failed: the server rejected repo.credentials (the bearer token)';
    if (kind === 'basic')
      return 'authentication failed: the server rejected repo.credentials (the username and password)';
    return 'authentication required: the server asks for credentials (set repo.credentials)';
  }
  if (
    /Could not resolve (host|hostname)|Connection refused|Connection timed out|No route to host|Network is unreachable|Failed to connect|Connection closed by|Connection reset/i.test(
      stderr,
    )
  )
    return `the host is unreachable (${unreachableWhy(stderr)})`;
  return undefined;
}

function unreachableWhy(stderr: string): string {
  if (/Could not resolve/i.test(stderr)) return 'its name does not resolve';
  if (/Connection refused/i.test(stderr)) return 'connection refused';
  if (/timed out/i.test(stderr)) return 'connection timed out';
  if (/Connection closed|Connection reset/i.test(stderr)) return 'the connection was closed';
  return 'no route to it';
}
