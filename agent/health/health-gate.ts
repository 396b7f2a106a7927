// The health gate of one pass: which objects an assignment waits for (every applied object with
// wait, plus the ones its health checks name), read as the tenant, each assessed by
// assessHealth. The reconciler decides what the answer means (Ready, still Progressing, Failed).
import {
  MAX_NOT_READY,
  MAX_NOT_READY_LENGTH,
  describeHealthCheck,
  parseHealthCheck,
  type HealthCheckRef,
  type HealthOptions,
} from '../../proto/index.js';
import { mapLimit } from '../../lib/limit.js';
import type { Discovery } from '../kube/discovery.js';
import { kubeErrorMessage } from '../kube/errors.js';
import type { KubeClient } from '../kube/kube-client.js';
import { groupOf, refKey, type ObjectRef } from '../kube/objects.js';
import { assessHealth, type HealthAssessment } from './health-assessment.js';

/** How many objects a pass reads at once. */
const READ_CONCURRENCY = 8;

/** Kinds a check may name without a group: found in these group versions. */
const UNGROUPED_VERSIONS = ['v1', 'apps/v1', 'batch/v1'];

export interface HealthVerdict {
  /** Objects not healthy yet, "Kind/namespace/name: why", capped at MAX_NOT_READY. */
  notReady: string[];
  /** How many objects are not healthy (all of them, not only those listed). */
  notReadyCount: number;
  /** The first object whose health is Failed (fail at once), if any. */
  failed?: string;
  /** How many objects were checked. */
  checked: number;
}

/** "Deployment/web/podinfo" for an object reference. */
export function healthName(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

interface Target {
  name: string;
  ref?: ObjectRef;
  /** Why the object cannot be read (a kind the server does not serve, a wrong scope). */
  problem?: HealthAssessment;
}

async function resolveCheck(
  c: HealthCheckRef,
  applied: readonly ObjectRef[],
  discovery: Discovery,
): Promise<Target> {
  const name = describeHealthCheck(c);
  const same = (r: ObjectRef) =>
    r.kind === c.kind &&
    r.name === c.name &&
    r.namespace === c.namespace &&
    (!c.group || groupOf(r.apiVersion) === c.group);
  const mine = applied.find(same);
  if (mine) return { name, ref: mine };
  const versions = c.group ? [await discovery.preferredVersion(c.group)] : UNGROUPED_VERSIONS;
  for (const apiVersion of versions) {
    if (!apiVersion) continue;
    const r = await discovery.resource(apiVersion, c.kind);
    if (!r) continue;
    if (r.namespaced !== Boolean(c.namespace)) {
      const problem: HealthAssessment = {
        status: 'Failed',
        message: r.namespaced
          ? `${c.kind} is namespaced: name it ${c.kind}/<namespace>/${c.name}`
          : `${c.kind} is cluster-scoped: name it ${c.kind}/${c.name}`,
      };
      return { name, problem };
    }
    return { name, ref: { apiVersion, kind: c.kind, namespace: c.namespace, name: c.name } };
  }
  const where = c.group
    ? `in group ${c.group}`
    : `in the core, apps or batch groups (add its group: ${c.kind}.<group>)`;
  return {
    name,
    problem: { status: 'NotFound', message: `the API server serves no kind ${c.kind} ${where}` },
  };
}

/** The objects the assignment waits for: applied ones (with wait) and named ones, once each. */
export async function healthTargets(
  health: HealthOptions,
  applied: readonly ObjectRef[],
  discovery: Discovery,
): Promise<Target[]> {
  const out: Target[] = health.wait ? applied.map((ref) => ({ name: healthName(ref), ref })) : [];
  const seen = new Set(out.map((t) => refKey(t.ref!)));
  for (const [i, check] of health.checks.entries()) {
    const t = await resolveCheck(parseHealthCheck(`health.checks[${i}]`, check), applied, discovery);
    if (t.ref && seen.has(refKey(t.ref))) continue;
    if (t.ref) seen.add(refKey(t.ref));
    out.push(t);
  }
  return out;
}

/** Reads and assesses every target as `client` (the tenant): a pass's health verdict. */
export async function checkHealth(
  client: KubeClient,
  targets: readonly Target[],
  health: HealthOptions,
): Promise<HealthVerdict> {
  const results = await mapLimit(targets, READ_CONCURRENCY, async (t): Promise<HealthAssessment> => {
    if (t.problem) return t.problem;
    try {
      return assessHealth(await client.get(t.ref!), health.exprs);
    } catch (err) {
      return { status: 'Unknown', message: `cannot read it: ${kubeErrorMessage(err)}` };
    }
  });
  const bad = targets.map((t, i) => ({ t, a: results[i] })).filter(({ a }) => a.status !== 'Current');
  const failed = bad.find(({ a }) => a.status === 'Failed');
  // failures first: they are why the assignment failed
  const ordered = [
    ...bad.filter(({ a }) => a.status === 'Failed'),
    ...bad.filter(({ a }) => a.status !== 'Failed'),
  ];
  return {
    notReady: ordered
      .slice(0, MAX_NOT_READY)
      .map(({ t, a }) => `${t.name}: ${a.message}`.slice(0, MAX_NOT_READY_LENGTH)),
    notReadyCount: bad.length,
    failed: failed && `${failed.t.name}: ${failed.a.message}`,
    checked: targets.length,
  };
}
