// The health step of a pass: after the revision is applied, decide whether the assignment is
// healthy (Ready), still waiting (Progressing; the pass is polled again shortly instead of holding
// a worker for the whole timeout) or Failed (an object's health is Failed, or the timeout passed).
// The timeout counts from the first pass that waited on this revision; the clock is kept in
// memory, so an agent restart gives a waiting revision a fresh timeout.
import { Reason, healthTimeoutMs, waitsForHealth, type HealthOptions } from '../../proto/index.js';
import { ReconcileError } from '../errors.js';
import type { Discovery } from '../kube/discovery.js';
import type { KubeClient } from '../kube/kube-client.js';
import type { ObjectRef } from '../kube/objects.js';
import { checkHealth, healthTargets, type HealthVerdict } from './health-gate.js';

export interface HealthOutcome {
  /** Some objects are not healthy yet and the timeout has not passed: poll again. */
  pending: boolean;
  /** For the status: "Kind/namespace/name: why" of the objects not healthy. */
  notReady: string[];
  /** What a Ready or Progressing message says about health. */
  summary: string;
}

/** "4m12s", "3s", "1h0m5s": a time left or a timeout as Go (and so Flux) writes durations, whole seconds up. */
export function duration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

function listed(v: HealthVerdict): string {
  const more = v.notReadyCount > v.notReady.length ? `; and ${v.notReadyCount - v.notReady.length} more` : '';
  return v.notReady.join('; ') + more;
}

/** When each assignment began waiting for its current revision to be healthy. */
export class HealthWaits {
  private readonly since = new Map<string, { revision: string; sinceMs: number }>();

  /** When the wait for this revision began: `nowMs` for a revision not waited on before. */
  begin(key: string, revision: string, nowMs: number): number {
    const w = this.since.get(key);
    if (w && w.revision === revision) return w.sinceMs;
    this.since.set(key, { revision, sinceMs: nowMs });
    return nowMs;
  }

  /** The wait is over (healthy, or the assignment left or stopped waiting). */
  end(key: string): void {
    this.since.delete(key);
  }
}

export interface HealthStepInput {
  key: string;
  revision: string;
  health: HealthOptions | undefined;
  /** What the pass applied. */
  applied: readonly ObjectRef[];
  /** The tenant's client: health checks read only what the tenant may read. */
  client: KubeClient;
  discovery: Discovery;
  waits: HealthWaits;
  nowMs: number;
}

/**
 * Undefined when the assignment does not wait for health. Throws a HealthCheckFailed
 * ReconcileError when an object failed or the timeout passed, naming the objects and why.
 */
export async function reconcileHealth(i: HealthStepInput): Promise<HealthOutcome | undefined> {
  if (!waitsForHealth(i.health)) {
    i.waits.end(i.key);
    return undefined;
  }
  const health = i.health;
  const targets = await healthTargets(health, i.applied, i.discovery);
  const verdict = await checkHealth(i.client, targets, health);
  if (verdict.notReadyCount === 0) {
    i.waits.end(i.key);
    return { pending: false, notReady: [], summary: `${verdict.checked} object(s) healthy` };
  }
  const since = i.waits.begin(i.key, i.revision, i.nowMs);
  const timeoutMs = healthTimeoutMs(health);
  if (verdict.failed) {
    throw new ReconcileError(Reason.HealthCheckFailed, `health check failed: ${verdict.failed}`, {
      notReady: verdict.notReady,
    });
  }
  const waited = i.nowMs - since;
  if (waited >= timeoutMs) {
    throw new ReconcileError(
      Reason.HealthCheckFailed,
      `health check timed out after ${duration(timeoutMs)}: ${verdict.notReadyCount} of ${verdict.checked} object(s) not healthy: ${listed(verdict)}`,
      { notReady: verdict.notReady },
    );
  }
  return {
    pending: true,
    notReady: verdict.notReady,
    summary: `waiting for ${verdict.notReadyCount} of ${verdict.checked} object(s) to be healthy (timeout in ${duration(timeoutMs - waited)}): ${listed(verdict)}`,
  };
}
