// What the agent reads from a repository is bounded: a hostile or careless commit must fail that
// assignment with a clear message, never take the agent (and every tenant on its cluster) out of
// memory, disk or CPU. Each limit is configurable (AgentConfig.limits, `gitfleet agent --max-*`).
// Parsed objects cost about 15 times their JSON size in heap (a revision at maxRenderedBytes of
// small keys: ~250 MB), so the limits of one revision do not bound the agent: the passes in flight
// together hold at most maxBytesInFlight of manifests (the reconciler's render budget); the rest
// wait their turn. The defaults keep the agent inside deploy/agent's 512Mi at any concurrency.
import { Reason } from '../proto/index.js';
import { ReconcileError } from './errors.js';

export interface SourceLimits {
  /** Bytes a fetch may download and a checkout may hold on disk. */
  maxSourceBytes: number;
  /** Files and directories under the assignment path. */
  maxFiles: number;
  /** Kubernetes objects one revision may render to. */
  maxObjects: number;
  /** Bytes of one YAML document (its parse costs about 40 times its size in memory). */
  maxDocumentBytes: number;
  /** Bytes of all rendered objects together, as JSON. */
  maxRenderedBytes: number;
  /** Alias expansions per YAML document (the yaml package's maxAliasCount; "billion laughs"). */
  maxYamlAliases: number;
  /**
   * Bytes of manifests that all passes in flight may hold at once (a revision weighs what its
   * manifest files weigh, at most maxRenderedBytes). Default: maxRenderedBytes, one revision at
   * its limit at a time, while small revisions still run side by side.
   */
  maxBytesInFlight?: number;
}

/** The limits that are always set (and have their own `gitfleet agent` flag). */
type RevisionLimit = Exclude<keyof SourceLimits, 'maxBytesInFlight'>;

const MiB = 1024 * 1024;

export const DEFAULT_SOURCE_LIMITS: Readonly<Required<Omit<SourceLimits, 'maxBytesInFlight'>>> =
  Object.freeze({
    maxSourceBytes: 64 * MiB,
    maxFiles: 2000,
    maxObjects: 2000,
    // the API server refuses objects over ~1.5 MiB (etcd); YAML may be larger than its JSON
    maxDocumentBytes: 2 * MiB,
    maxRenderedBytes: 16 * MiB,
    maxYamlAliases: 100,
  });

/** The `gitfleet agent` flag that raises each limit. */
export const LIMIT_FLAGS: Readonly<Record<RevisionLimit, string>> = Object.freeze({
  maxSourceBytes: '--max-source-bytes',
  maxFiles: '--max-files',
  maxObjects: '--max-objects',
  maxDocumentBytes: '--max-document-bytes',
  maxRenderedBytes: '--max-rendered-bytes',
  maxYamlAliases: '--max-yaml-aliases',
});

/** Fills in defaults and refuses anything but positive safe integers, naming the limit. */
export function resolveLimits(given: Partial<SourceLimits> | undefined): SourceLimits {
  const out = { ...DEFAULT_SOURCE_LIMITS };
  if (given === undefined || given === null) return out;
  if (typeof given !== 'object') throw new Error('invalid agent config: limits must be an object');
  for (const [name, value] of Object.entries(given)) {
    if (!(name in DEFAULT_SOURCE_LIMITS) && name !== 'maxBytesInFlight') {
      throw new Error(
        `invalid agent config: unknown limit ${JSON.stringify(name).slice(0, 60)} (known: ${[...Object.keys(DEFAULT_SOURCE_LIMITS), 'maxBytesInFlight'].join(', ')})`,
      );
    }
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      const flag = LIMIT_FLAGS[name as RevisionLimit];
      throw new Error(
        `invalid agent config: limits.${name}${flag ? ` (${flag})` : ''} must be a positive integer, got ${String(JSON.stringify(value)).slice(0, 40)}`,
      );
    }
    (out as SourceLimits)[name as keyof SourceLimits] = value;
  }
  return out;
}

/** The render budget of the whole agent: maxBytesInFlight, by default maxRenderedBytes. */
export function bytesInFlight(limits: Pick<SourceLimits, 'maxRenderedBytes' | 'maxBytesInFlight'>): number {
  return limits.maxBytesInFlight ?? limits.maxRenderedBytes;
}

/**
 * The error of an exceeded limit: the revision is refused as a whole (nothing of it is applied,
 * the last good revision stays) until a new revision or a raised limit. `where` names the file or
 * the source; the message says which flag raises the limit.
 */
export function limitError(
  reason: typeof Reason.BuildFailed | typeof Reason.ArtifactFailed,
  where: string,
  what: string,
  limit: RevisionLimit,
  value: number,
): ReconcileError {
  return new ReconcileError(
    reason,
    `${where}: ${what}, more than the limit of ${value}${limit.endsWith('Bytes') ? ' bytes' : ''} (${limit}; raise it with gitfleet agent ${LIMIT_FLAGS[limit]})`,
    { stalled: true },
  );
}
