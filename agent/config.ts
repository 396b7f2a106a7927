// The agent's configuration: validated once at start, defaults filled in, failing fast.
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isLogLevel } from '../lib/log.js';
import { isDnsLabel } from '../lib/names.js';
import {
  assertClusterName,
  clusterRoleAllowlistProblem,
  DEFAULT_AGENT_NAMESPACE,
  DEFAULT_TENANT_CLUSTER_ROLES,
} from '../proto/index.js';
import { joinTokenId, type JoinTarget } from './bus/join.js';
import { resolveLimits, type SourceLimits } from './limits.js';
import { DEFAULT_FETCH_JITTER_MS, MAX_FETCH_JITTER_MS } from './sources/fetch-jitter.js';

export interface AgentConfig {
  /** This cluster's name as registered at the hub (DNS-1123 label). */
  cluster: string;
  /**
   * NATS server URL(s), comma-separated. Optional once joined: the hub names the servers when the
   * agent joins, and they are stored with its credentials; given, it overrides them.
   */
  natsUrl?: string;
  /** Join an authenticated bus with a one-time token (`gitfleet cluster token create`). */
  join?: JoinTarget;
  /** Absent: in-cluster configuration (the agent's ServiceAccount). */
  kubeconfigPath?: string;
  /** The agent's own namespace for inventories and state (default "gitfleet-system"; created if missing). */
  namespace?: string;
  /** Git cache (default $XDG_CACHE_HOME/gitfleet-agent or <tmpdir>/gitfleet-agent-cache). */
  cacheDir?: string;
  /**
   * Bytes the git cache may hold (default 1 GiB): least recently used checkouts not in use are
   * removed after each fetch.
   */
  cacheMaxBytes?: number;
  /** Every assignment is reconciled again after this long even without changes (default 60). */
  resyncSeconds?: number;
  /** Heartbeat interval (default 30). */
  heartbeatSeconds?: number;
  /** Assignments reconciled in parallel (default 4). */
  concurrency?: number;
  /** Requests in flight to the API server per apply (default 16). */
  applyConcurrency?: number;
  logLevel?: string;
  /**
   * ClusterRoles a tenant may be bound to on this cluster (default admin, edit, view); a desired
   * set naming another is refused. Never cluster-admin or system:*.
   */
  tenantClusterRoles?: string[];
  /** Bounds on what one revision may hold (agent/limits.ts; defaults DEFAULT_SOURCE_LIMITS). */
  limits?: Partial<SourceLimits>;
  /** The pinned kubectl of the Kustomize renderer (`kubectl kustomize`); default `kubectl` on PATH. */
  kubectl?: string;
  /** The pinned helm of the Helm renderer (`helm template`); default `helm` on PATH. */
  helm?: string;
  /**
   * The fetch of a revision not in the cache waits a uniform random time in [0, this) so that
   * agents reached by a new revision at once do not all hit the git host or registry in the same
   * instant (default 2000; 0 disables; at most 10 minutes).
   */
  fetchJitterMs?: number;
  /** The clock maintenance windows are read with (default Date.now; tests move it). */
  clock?: () => number;
}

export type ResolvedAgentConfig = Required<
  Omit<AgentConfig, 'kubeconfigPath' | 'limits' | 'natsUrl' | 'join' | 'clock'>
> & {
  clock?: () => number;
  kubeconfigPath?: string;
  /** The servers given (--nats); undefined: those stored with the credentials. */
  natsServers?: string[];
  join?: JoinTarget;
  limits: SourceLimits;
};

function resolveJoin(j: JoinTarget): JoinTarget {
  if (!joinTokenId(j.token ?? '')) {
    throw new Error(
      'invalid agent config: join token: not a join token (gfj_…); make one with `gitfleet cluster token create CLUSTER`',
    );
  }
  if (typeof j.hub !== 'string' || !/^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]@]+):\d{1,5}$/.test(j.hub)) {
    throw new Error("invalid agent config: joining needs the hub's address as host:port (--hub)");
  }
  return { token: j.token, hub: j.hub, caFile: j.caFile || undefined, tls: j.tls || undefined };
}

/** A render tool's binary: a path or a name looked up on PATH; never empty, no control characters. */
function toolPath(name: 'kubectl' | 'helm', v: string | undefined): string {
  const p = v ?? name;
  // eslint-disable-next-line no-control-regex
  if (typeof p !== 'string' || p.trim() === '' || /[\u0000-\u001f\u007f]/.test(p)) {
    throw new Error(
      `invalid agent config: ${name} (--${name}) must be the path of the ${name} binary, got ${JSON.stringify(v)?.slice(0, 80)}`,
    );
  }
  // the tools run in a scratch directory: a relative path means the agent's working directory
  return p.includes('/') ? resolve(p) : p;
}

/** The default byte budget of the git cache. */
export const DEFAULT_CACHE_MAX_BYTES = 1024 * 1024 * 1024;

function cacheMaxBytes(v: number | undefined): number {
  if (v === undefined) return DEFAULT_CACHE_MAX_BYTES;
  if (!Number.isSafeInteger(v) || v < 1024 * 1024)
    throw new Error(`invalid agent config: cacheMaxBytes: must be at least 1Mi, got ${v}`);
  return v;
}

function fetchJitterMs(v: number | undefined): number {
  if (v === undefined) return DEFAULT_FETCH_JITTER_MS;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAX_FETCH_JITTER_MS) {
    throw new Error(
      `invalid agent config: fetchJitterMs (--fetch-jitter) must be between 0 (off) and 10m, got ${JSON.stringify(v)?.slice(0, 40)}`,
    );
  }
  return v;
}

function positive(name: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
    throw new Error(`invalid agent config: ${name} must be a positive number, got ${JSON.stringify(v)}`);
  }
  return n;
}

export function resolveAgentConfig(c: AgentConfig): ResolvedAgentConfig {
  if (!c || typeof c !== 'object') throw new Error('invalid agent config: expected an object');
  const cluster = assertClusterName(c.cluster);
  if (c.natsUrl !== undefined && (typeof c.natsUrl !== 'string' || c.natsUrl.trim() === '')) {
    throw new Error(
      'invalid agent config: natsUrl must be a NATS URL (nats://host:port), or absent after joining',
    );
  }
  const joinTarget = c.join && resolveJoin(c.join);
  const namespace = c.namespace ?? DEFAULT_AGENT_NAMESPACE;
  if (!isDnsLabel(namespace))
    throw new Error(`invalid agent config: namespace ${JSON.stringify(namespace)} is not a DNS label`);
  const logLevel = c.logLevel ?? process.env.GITFLEET_LOG_LEVEL ?? 'info';
  if (!isLogLevel(logLevel)) throw new Error(`invalid agent config: logLevel ${JSON.stringify(logLevel)}`);
  const tenantClusterRoles = c.tenantClusterRoles ?? [...DEFAULT_TENANT_CLUSTER_ROLES];
  const rolesProblem = Array.isArray(tenantClusterRoles)
    ? clusterRoleAllowlistProblem(tenantClusterRoles)
    : 'must be a list of ClusterRole names';
  if (rolesProblem) throw new Error(`invalid agent config: tenantClusterRoles: ${rolesProblem}`);
  const xdg = process.env.XDG_CACHE_HOME;
  return {
    cluster,
    natsServers: c.natsUrl
      ?.split(',')
      .map((u) => u.trim())
      .filter(Boolean),
    join: joinTarget,
    kubeconfigPath: c.kubeconfigPath || undefined,
    namespace,
    cacheDir: c.cacheDir ?? (xdg ? join(xdg, 'gitfleet-agent') : join(tmpdir(), 'gitfleet-agent-cache')),
    cacheMaxBytes: cacheMaxBytes(c.cacheMaxBytes),
    resyncSeconds: positive('resyncSeconds', c.resyncSeconds, 60),
    heartbeatSeconds: positive('heartbeatSeconds', c.heartbeatSeconds, 30),
    concurrency: Math.floor(positive('concurrency', c.concurrency, 4)),
    applyConcurrency: Math.floor(positive('applyConcurrency', c.applyConcurrency, 16)),
    logLevel,
    tenantClusterRoles: [...new Set(tenantClusterRoles)],
    limits: resolveLimits(c.limits),
    kubectl: toolPath('kubectl', c.kubectl),
    helm: toolPath('helm', c.helm),
    fetchJitterMs: fetchJitterMs(c.fetchJitterMs),
    clock: typeof c.clock === 'function' ? c.clock : undefined,
  };
}
