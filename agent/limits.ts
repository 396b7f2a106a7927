// What the agent reads from a repository is bounded: a hostile or careless commit must fail that
// assignment with a clear message, never take the agent (and every tenant on its cluster) out of
// memory, disk or CPU. Each limit is configurable (AgentConfig.limits, `gitfleet agent --max-*`).
// The defaults keep one pass of one assignment at about 100 MB of heap, so that the default
// concurrency (4) stays inside deploy/agent's 512Mi.
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
}

const MiB = 1024 * 1024;

export const DEFAULT_SOURCE_LIMITS: Readonly<SourceLimits> = Object.freeze({
  maxSourceBytes: 64 * MiB,
  maxFiles: 2000,
  maxObjects: 2000,
  // the API server refuses objects over ~1.5 MiB (etcd); YAML may be larger than its JSON
  maxDocumentBytes: 2 * MiB,
  maxRenderedBytes: 16 * MiB,
  maxYamlAliases: 100,
});

/** The `gitfleet agent` flag that raises each limit. */
export const LIMIT_FLAGS: Readonly<Record<keyof SourceLimits, string>> = Object.freeze({
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
    if (!(name in DEFAULT_SOURCE_LIMITS)) {
      throw new Error(
        `invalid agent config: unknown limit ${JSON.stringify(name).slice(0, 60)} (known: ${Object.keys(DEFAULT_SOURCE_LIMITS).join(', ')})`,
      );
    }
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new Error(
        `invalid agent config: limits.${name} (${LIMIT_FLAGS[name as keyof SourceLimits]}) must be a positive integer, got ${String(JSON.stringify(value)).slice(0, 40)}`,
      );
    }
    out[name as keyof SourceLimits] = value;
  }
  return out;
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
  limit: keyof SourceLimits,
  value: number,
): ReconcileError {
  return new ReconcileError(
    reason,
    `${where}: ${what}, more than the limit of ${value}${limit.endsWith('Bytes') ? ' bytes' : ''} (${limit}; raise it with gitfleet agent ${LIMIT_FLAGS[limit]})`,
    { stalled: true },
  );
}
