// The hub's configuration: parsed and validated once at start, typed, failing fast with a message
// that names the bad setting.
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isLogLevel, LOG_LEVELS } from '../../lib/log.js';
import { scrubSecrets } from '../../lib/redact.js';

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
}

export type DbConfig = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/** The validated configuration the hub's modules receive. */
export interface ResolvedHubConfig {
  listen: { host: string; port: number };
  natsServers: string[];
  db: DbConfig;
  resolveIntervalSeconds: number | undefined;
  logLevel: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(setting: string, reason: string) {
    super(`invalid hub config: ${setting}: ${reason}`);
  }
}

export function parseListen(listen: unknown): { host: string; port: number } {
  if (typeof listen !== 'string' || listen.trim() === '')
    throw new ConfigError('listen', 'required ("host:port")');
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(listen.trim());
  if (!m)
    throw new ConfigError('listen', `${JSON.stringify(listen)} is not "host:port" (IPv6 as "[::1]:port")`);
  const port = Number(m[3]);
  if (port > 65535)
    throw new ConfigError('listen', `port ${port} is out of range (0-65535, 0 picks a free port)`);
  return { host: m[1] ?? m[2], port };
}

export function parseNatsUrl(natsUrl: unknown): string[] {
  if (typeof natsUrl !== 'string' || natsUrl.trim() === '') {
    throw new ConfigError('natsUrl', 'required (e.g. "nats://127.0.0.1:4222")');
  }
  return natsUrl.split(',').map((raw) => {
    const s = raw.trim();
    const withScheme = /^[a-z]+:\/\//i.test(s) ? s : `nats://${s}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      throw new ConfigError('natsUrl', `${JSON.stringify(scrubSecrets(s))} is not a URL`);
    }
    if (!['nats:', 'tls:', 'ws:', 'wss:'].includes(url.protocol) || url.hostname === '') {
      throw new ConfigError(
        'natsUrl',
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
  return {
    listen: parseListen(config.listen),
    natsServers: parseNatsUrl(config.natsUrl),
    db: parseDb(config.db),
    resolveIntervalSeconds,
    logLevel,
  };
}
