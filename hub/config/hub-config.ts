// The hub's configuration: parsed and validated once at start, typed, failing fast with a message
// that names the bad setting.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isLogLevel, LOG_LEVELS } from '../../lib/log.js';
import { credsUserJwt } from '../../lib/nats-connect.js';
import { scrubSecrets } from '../../lib/redact.js';
import { clusterRoleAllowlistProblem, DEFAULT_TENANT_CLUSTER_ROLES, tokenId } from '../../proto/index.js';
import { decode as decodeJwt } from '@nats-io/jwt';
import { BUS_KEYS_FILE, parseBusKeys, type BusKeys } from '../bus/bus-keys.js';
import { defaultSecretKeyPath, readSecretKeyFile, SecretKeyError } from './secret-key.js';

/** What startHub() takes (from the CLI, the environment or a test). */
export interface HubConfig {
  /** gRPC listen address "host:port"; port 0 picks a free port (startHub reports it). */
  listen: string;
  /** NATS server URL(s), comma separated: "nats://127.0.0.1:4222". */
  natsUrl: string;
  /** SQLite file path (":memory:" for a throw-away store) or a postgres:// URL (not supported yet). */
  db: string;
  /** Re-resolve every repo this often instead of its own interval (tests). */
  resolveIntervalSeconds?: number;
  /** pino level: fatal, error, warn, info, debug, trace, silent. Default $GITFLEET_LOG_LEVEL or info. */
  logLevel?: string;
  /** PEM certificate (chain) and key the gRPC API serves TLS with. Both or neither. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Serve plaintext on a non-loopback address (behind a TLS-terminating proxy or mesh). */
  insecure?: boolean;
  /**
   * File with the first admin token: read when it exists, else a new token is written there
   * (mode 0600) on first start. Default: gitfleet-admin.token beside the SQLite file.
   */
  adminTokenFile?: string;
  /** The first admin token itself ("gft_…"), for tests and embedding; registered if unknown. */
  adminToken?: string;
  /** ClusterRoles a tenant may be bound to (default admin, edit, view); never cluster-admin or system:*. */
  tenantClusterRoles?: string[];
  /**
   * File with the 32-byte key that encrypts repo credentials at rest (mode 0600). Default: the
   * file `<db>.key` beside the SQLite file, created on first start.
   */
  secretKeyFile?: string;
  /** The previous key while rotating: values sealed with it are re-sealed with secretKeyFile's on start. */
  oldSecretKeyFile?: string;
  /** Take ownership of a bus another store (or an empty one) does not own, and reconcile it. */
  adoptBus?: boolean;
  /** How often the hub checks that its bucket and stream still exist (default 15 s). */
  busCheckIntervalSeconds?: number;
  /** A cluster without a heartbeat for this long is Offline (default 90 s: three of the agent's). */
  clusterOfflineAfterSeconds?: number;
  /**
   * Staged rollouts switch at most this many clusters per source host (a repo URL's host) per
   * second to a new revision, across all rollouts, so a git host or registry is never flooded
   * (default 0: no cap).
   */
  maxConcurrentFetch?: number;
  /**
   * The hub's NATS credentials (`gitfleet bus init --dir D` writes D/hub.creds). Absent: the bus
   * is not authenticated, agents join with nothing, and any NATS client can read every desired set.
   */
  natsCredsFile?: string;
  /** What the hub signs agents' credentials with (default: bus-keys.json beside natsCredsFile). */
  busKeysFile?: string;
  /** NATS URL(s) the hub hands to joining agents (default: natsUrl). */
  agentNatsUrl?: string;
  /**
   * Where the webhook receivers' HTTP listener binds, "host:port" (port 0 picks a free port;
   * startHub reports it). Absent: no webhook listener.
   */
  webhookListen?: string;
}

/** Where the first admin token comes from. */
export interface AdminTokenConfig {
  file?: string;
  token?: string;
}

/** The TLS the gRPC API serves, read once at start. */
export interface TlsConfig {
  cert: Buffer;
  key: Buffer;
}

export type DbConfig = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/** The validated configuration the hub's modules receive. */
export interface ResolvedHubConfig {
  listen: { host: string; port: number };
  natsServers: string[];
  db: DbConfig;
  resolveIntervalSeconds: number | undefined;
  logLevel: string;
  /** Undefined: plaintext, which parseHubConfig allows only on loopback or with `insecure`. */
  tls: TlsConfig | undefined;
  /** Undefined: no first admin token (an in-memory store with neither given). */
  adminToken: AdminTokenConfig | undefined;
  tenantClusterRoles: string[];
  secretKey: SecretKeySource;
  /** Keys that only open values (rotation). */
  oldSecretKeys: Buffer[];
  adoptBus: boolean;
  busCheckIntervalSeconds: number;
  clusterOfflineAfterSeconds: number;
  /** Clusters a rollout starts per source host per second; 0 = no cap. */
  maxConcurrentFetch: number;
  /** Undefined: an unauthenticated bus. */
  busAuth: BusAuthConfig | undefined;
  /** What joining agents are told to connect to. */
  agentNatsServers: string[];
  /** Undefined: no webhook listener. */
  webhookListen: { host: string; port: number } | undefined;
}

/** An authenticated bus: the hub's own credentials and its signing keys, read once at start. */
export interface BusAuthConfig {
  credsFile: string;
  /** The creds file's text (user JWT + seed). */
  creds: string;
  keysFile: string;
  keys: BusKeys;
}

/** Where the key for credentials at rest comes from. */
export type SecretKeySource =
  | { kind: 'file'; path: string; key: Buffer }
  /** created beside the SQLite file on first start */
  | { kind: 'default'; path: string }
  /** a throw-away store (":memory:"): a throw-away key */
  | { kind: 'ephemeral' }
  /** nowhere to create a default (PostgreSQL): secretKeyFile is required */
  | { kind: 'none' };

export const DEFAULT_BUS_CHECK_INTERVAL_SECONDS = 15;
/** Three of the agent's default 30 s heartbeats. */
export const DEFAULT_CLUSTER_OFFLINE_AFTER_SECONDS = 90;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(setting: string, reason: string) {
    super(`invalid hub config: ${setting}: ${reason}`);
  }
}

/** "host:port" of a listen address (IPv6 hosts in brackets): the inverse of parseListen. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function parseListen(listen: unknown, setting = 'listen'): { host: string; port: number } {
  if (typeof listen !== 'string' || listen.trim() === '')
    throw new ConfigError(setting, 'required ("host:port")');
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(listen.trim());
  if (!m)
    throw new ConfigError(
      setting,
      `${JSON.stringify(listen.slice(0, 64))} is not "host:port" (IPv6 as "[::1]:port")`,
    );
  const port = Number(m[3]);
  if (port > 65535)
    throw new ConfigError(setting, `port ${port} is out of range (0-65535, 0 picks a free port)`);
  return { host: m[1] ?? m[2], port };
}

export function parseNatsUrl(natsUrl: unknown, setting = 'natsUrl'): string[] {
  if (typeof natsUrl !== 'string' || natsUrl.trim() === '') {
    throw new ConfigError(setting, 'required (e.g. "nats://127.0.0.1:4222")');
  }
  return natsUrl.split(',').map((raw) => {
    const s = raw.trim();
    const withScheme = /^[a-z]+:\/\//i.test(s) ? s : `nats://${s}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      throw new ConfigError(setting, `${JSON.stringify(scrubSecrets(s))} is not a URL`);
    }
    if (!['nats:', 'tls:', 'ws:', 'wss:'].includes(url.protocol) || url.hostname === '') {
      throw new ConfigError(
        setting,
        `${JSON.stringify(scrubSecrets(s))}: want nats://host:port or tls://host:port`,
      );
    }
    return s;
  });
}

export function parseDb(db: unknown): DbConfig {
  if (typeof db !== 'string' || db.trim() === '') {
    throw new ConfigError('db', 'required (a SQLite file path, ":memory:", or a postgres:// URL)');
  }
  const s = db.trim();
  if (/^postgres(ql)?:\/\//i.test(s)) return { kind: 'postgres', url: s };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
    throw new ConfigError('db', `unsupported database URL scheme in ${JSON.stringify(scrubSecrets(s))}`);
  }
  const path = s.startsWith('sqlite:') ? s.slice('sqlite:'.length) : s;
  if (path === ':memory:') return { kind: 'sqlite', path };
  const abs = resolve(path);
  const dir = dirname(abs);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigError('db', `directory ${dir} of the SQLite file does not exist`);
  }
  if (existsSync(abs) && statSync(abs).isDirectory()) throw new ConfigError('db', `${abs} is a directory`);
  return { kind: 'sqlite', path: abs };
}

/** Largest --max-concurrent-fetch (a cap above it caps nothing). */
export const MAX_CONCURRENT_FETCH = 100_000;

function maxConcurrentFetch(v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAX_CONCURRENT_FETCH) {
    throw new ConfigError(
      'maxConcurrentFetch',
      `must be a whole number of clusters per source host per second between 0 (no cap) and ${MAX_CONCURRENT_FETCH}, got ${String(v).slice(0, 40)}`,
    );
  }
  return v;
}

function positiveSeconds(setting: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new ConfigError(setting, `must be a positive number of seconds, got ${String(v)}`);
  }
  return v;
}

function keyFile(setting: string, path: unknown): Buffer {
  if (typeof path !== 'string' || path.trim() === '') throw new ConfigError(setting, 'must be a file path');
  try {
    return readSecretKeyFile(resolve(path));
  } catch (err) {
    if (err instanceof SecretKeyError) throw new ConfigError(setting, err.message);
    throw err;
  }
}

export function parseSecretKey(config: HubConfig, db: DbConfig): SecretKeySource {
  if (config.secretKeyFile !== undefined) {
    const path = resolve(String(config.secretKeyFile));
    return { kind: 'file', path, key: keyFile('secretKeyFile', config.secretKeyFile) };
  }
  if (db.kind === 'sqlite' && db.path === ':memory:') return { kind: 'ephemeral' };
  if (db.kind === 'sqlite') return { kind: 'default', path: defaultSecretKeyPath(db.path) };
  // no file to put a default beside: the store refuses to open without a key (once PostgreSQL exists)
  return { kind: 'none' };
}

export function parseHubConfig(config: HubConfig): ResolvedHubConfig {
  if (typeof config !== 'object' || config === null) throw new ConfigError('config', 'must be an object');
  let resolveIntervalSeconds: number | undefined;
  if (config.resolveIntervalSeconds !== undefined) {
    const v = config.resolveIntervalSeconds;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new ConfigError(
        'resolveIntervalSeconds',
        `must be a positive number of seconds, got ${String(v)}`,
      );
    }
    resolveIntervalSeconds = v;
  }
  const logLevel = config.logLevel ?? process.env.GITFLEET_LOG_LEVEL ?? 'info';
  if (!isLogLevel(logLevel)) {
    throw new ConfigError('logLevel', `${JSON.stringify(logLevel)} is not one of ${LOG_LEVELS.join(', ')}`);
  }
  const listen = parseListen(config.listen);
  const natsServers = parseNatsUrl(config.natsUrl);
  const db = parseDb(config.db);
  const secretKey = parseSecretKey(config, db);
  if (config.oldSecretKeyFile !== undefined && config.secretKeyFile === undefined) {
    throw new ConfigError('oldSecretKeyFile', 'rotation needs the new key too: give secretKeyFile as well');
  }
  const oldSecretKeys =
    config.oldSecretKeyFile === undefined ? [] : [keyFile('oldSecretKeyFile', config.oldSecretKeyFile)];
  if (config.adoptBus !== undefined && typeof config.adoptBus !== 'boolean') {
    throw new ConfigError('adoptBus', 'must be true or false');
  }
  const tenantClusterRoles = config.tenantClusterRoles ?? [...DEFAULT_TENANT_CLUSTER_ROLES];
  const rolesProblem = Array.isArray(tenantClusterRoles)
    ? clusterRoleAllowlistProblem(tenantClusterRoles)
    : 'must be a list of ClusterRole names';
  if (rolesProblem) throw new ConfigError('tenantClusterRoles', rolesProblem);
  return {
    listen,
    natsServers,
    db,
    resolveIntervalSeconds,
    logLevel,
    tls: parseTls(config, listen.host),
    adminToken: parseAdminToken(config, db),
    tenantClusterRoles: [...new Set(tenantClusterRoles)],
    secretKey,
    oldSecretKeys,
    adoptBus: config.adoptBus === true,
    busCheckIntervalSeconds:
      positiveSeconds('busCheckIntervalSeconds', config.busCheckIntervalSeconds) ??
      DEFAULT_BUS_CHECK_INTERVAL_SECONDS,
    clusterOfflineAfterSeconds:
      positiveSeconds('clusterOfflineAfterSeconds', config.clusterOfflineAfterSeconds) ??
      DEFAULT_CLUSTER_OFFLINE_AFTER_SECONDS,
    maxConcurrentFetch: maxConcurrentFetch(config.maxConcurrentFetch),
    busAuth: parseBusAuth(config),
    agentNatsServers:
      config.agentNatsUrl === undefined
        ? // never hand agents the hub's own NATS user or password
          natsServers.map((u) => u.replace(/^([a-z]+:\/\/)?[^/@]*@/i, '$1'))
        : parseNatsUrl(config.agentNatsUrl, 'agentNatsUrl').map((s) => {
            if (/\/\/[^/]*@/.test(s))
              throw new ConfigError('agentNatsUrl', 'must not carry a user or password');
            return s;
          }),
    webhookListen:
      config.webhookListen === undefined ? undefined : parseListen(config.webhookListen, 'webhookListen'),
  };
}

/** A file of secrets: readable, and by nobody but its owner. */
function secretFile(setting: string, file: unknown): { path: string; text: string } {
  if (typeof file !== 'string' || file.trim() === '') throw new ConfigError(setting, 'expected a file path');
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(setting, `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  // group-readable is how Kubernetes mounts a Secret for a non-root process (root:fsGroup 0440)
  if ((statSync(path).mode & 0o007) !== 0) {
    throw new ConfigError(setting, `${path} is readable by every user: chmod 600 it`);
  }
  return { path, text };
}

export function parseBusAuth(
  config: Pick<HubConfig, 'natsCredsFile' | 'busKeysFile'>,
): BusAuthConfig | undefined {
  if (config.natsCredsFile === undefined) {
    if (config.busKeysFile !== undefined)
      throw new ConfigError(
        'busKeysFile',
        'signing keys without natsCredsFile: give the hub its credentials too',
      );
    return undefined;
  }
  const creds = secretFile('natsCredsFile', config.natsCredsFile);
  const jwt = credsUserJwt(creds.text);
  if (!jwt || !creds.text.includes('USER NKEY SEED')) {
    throw new ConfigError(
      'natsCredsFile',
      `${creds.path} is not a NATS credentials file (user JWT and seed)`,
    );
  }
  const keysPath = config.busKeysFile ?? join(dirname(creds.path), BUS_KEYS_FILE);
  const keysFile = secretFile('busKeysFile', keysPath);
  let keys: BusKeys;
  try {
    keys = parseBusKeys(keysFile.text, keysFile.path);
  } catch (err) {
    throw new ConfigError('busKeysFile', (err as Error).message);
  }
  let account: unknown;
  try {
    const claims = decodeJwt<{ issuer_account?: string }>(jwt);
    account = claims.nats?.issuer_account ?? claims.iss;
  } catch (err) {
    throw new ConfigError(
      'natsCredsFile',
      `${creds.path}: the user JWT does not decode (${(err as Error).message})`,
    );
  }
  if (account !== keys.account) {
    throw new ConfigError(
      'natsCredsFile',
      `${creds.path} is a user of account ${String(account)}, but ${keysFile.path} signs for ${keys.account}: both must come from the same \`gitfleet bus init\``,
    );
  }
  return { credsFile: creds.path, creds: creds.text, keysFile: keysFile.path, keys };
}

/** The admin token file beside a SQLite store, when nothing else is said. */
export const ADMIN_TOKEN_FILE = 'gitfleet-admin.token';

export function parseAdminToken(
  config: Pick<HubConfig, 'adminToken' | 'adminTokenFile'>,
  db: DbConfig,
): AdminTokenConfig | undefined {
  if (config.adminToken !== undefined) {
    if (!tokenId(config.adminToken, 'gft')) {
      throw new ConfigError('adminToken', 'not a gitfleet token (gft_<16 hex>_<43 base64url>)');
    }
    return { token: config.adminToken };
  }
  if (config.adminTokenFile) {
    const file = resolve(config.adminTokenFile);
    if (!existsSync(dirname(file)))
      throw new ConfigError('adminTokenFile', `directory ${dirname(file)} does not exist`);
    if (existsSync(file) && (statSync(file).mode & 0o077) !== 0) {
      throw new ConfigError('adminTokenFile', `${file} is readable by others: chmod 600 it`);
    }
    return { file };
  }
  if (db.kind === 'sqlite' && db.path !== ':memory:')
    return parseAdminToken({ adminTokenFile: join(dirname(db.path), ADMIN_TOKEN_FILE) }, db);
  return undefined;
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

function readPem(setting: string, file: string, what: RegExp): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new ConfigError(
      setting,
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  if (!what.test(pem.toString('latin1')))
    throw new ConfigError(setting, `${file} holds no PEM ${what.source}`);
  return pem;
}

/**
 * TLS from the certificate and key files; without them plaintext, refused on any address
 * other hosts can reach unless `insecure` says a proxy or mesh terminates TLS in front.
 */
export function parseTls(
  config: Pick<HubConfig, 'tlsCertFile' | 'tlsKeyFile' | 'insecure'>,
  host: string,
): TlsConfig | undefined {
  const { tlsCertFile: certFile, tlsKeyFile: keyFile } = config;
  if (certFile || keyFile) {
    if (!certFile || !keyFile) {
      throw new ConfigError(
        certFile ? 'tlsKeyFile' : 'tlsCertFile',
        'TLS needs both a certificate and its key',
      );
    }
    return {
      cert: readPem('tlsCertFile', certFile, /-----BEGIN CERTIFICATE-----/),
      key: readPem('tlsKeyFile', keyFile, /-----BEGIN [A-Z ]*PRIVATE KEY-----/),
    };
  }
  if (!isLoopback(host) && !config.insecure) {
    throw new ConfigError(
      'listen',
      `serving the API in plaintext on ${host} would let anyone on the network read and change the fleet: give --tls-cert and --tls-key, or --insecure when a proxy terminates TLS in front of the hub`,
    );
  }
  return undefined;
}
