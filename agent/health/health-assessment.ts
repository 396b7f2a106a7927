// The health of one live object, with kstatus semantics (sigs.k8s.io/cli-utils pkg/kstatus, as
// Flux uses it): Current (fully reconciled), InProgress (getting there), Failed (will not get there
// without a change), NotFound, Unknown (cannot tell: an expression that errs). Kinds with CEL
// expressions (Flux's healthCheckExprs) are decided by them instead. Pure: the object in, the
// verdict out; `gitfleet tree` and the reconciler's wait both call it.
import type { ParseResult } from '@marcbachmann/cel-js';
import {
  HEALTH_EXPR_ROLES,
  celErrorLine,
  compileHealthExpr,
  healthExprField,
  type HealthExpr,
} from '../../proto/index.js';

export type HealthStatus = 'Current' | 'InProgress' | 'Failed' | 'NotFound' | 'Unknown';

export interface HealthAssessment {
  status: HealthStatus;
  message: string;
}

type Obj = Record<string, unknown>;

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}

const current = (message: string): HealthAssessment => ({ status: 'Current', message });
const inProgress = (message: string): HealthAssessment => ({ status: 'InProgress', message });
const failed = (message: string): HealthAssessment => ({ status: 'Failed', message });

function field(obj: unknown, ...path: string[]): unknown {
  let v = obj;
  for (const p of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Obj)[p];
  }
  return v;
}

function num(obj: unknown, ...path: string[]): number | undefined {
  const v = field(obj, ...path);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** A count from status: absent means 0 (the API server omits zero counts). */
function count(obj: unknown, ...path: string[]): number {
  return num(obj, ...path) ?? 0;
}

function str(obj: unknown, ...path: string[]): string {
  const v = field(obj, ...path);
  return typeof v === 'string' ? v : '';
}

function conditions(obj: unknown): Condition[] {
  const list = field(obj, 'status', 'conditions');
  if (!Array.isArray(list)) return [];
  return list
    .filter((c): c is Obj => typeof c === 'object' && c !== null)
    .map((c) => ({
      type: str(c, 'type'),
      status: str(c, 'status'),
      reason: str(c, 'reason'),
      message: str(c, 'message'),
      observedGeneration: num(c, 'observedGeneration'),
    }));
}

function condition(obj: unknown, type: string): Condition | undefined {
  return conditions(obj).find((c) => c.type === type);
}

function why(c: Condition): string {
  return [c.reason, c.message].filter(Boolean).join(': ');
}

/** kstatus: a controller that has not seen the latest spec yet says nothing about it. */
function generationLag(obj: unknown): HealthAssessment | undefined {
  if (field(obj, 'metadata', 'deletionTimestamp')) return inProgress('being deleted');
  const generation = num(obj, 'metadata', 'generation');
  const observed = num(obj, 'status', 'observedGeneration');
  if (generation !== undefined && observed !== undefined && observed !== generation) {
    return inProgress(
      `observed generation ${observed} of ${generation}: the controller has not seen the latest spec`,
    );
  }
  return undefined;
}

function deployment(obj: unknown): HealthAssessment {
  const want = num(obj, 'spec', 'replicas') ?? 1;
  const progressing = condition(obj, 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    return failed(`progress deadline exceeded: ${why(progressing)}`);
  const updated = count(obj, 'status', 'updatedReplicas');
  const replicas = count(obj, 'status', 'replicas');
  const available = count(obj, 'status', 'availableReplicas');
  const ready = count(obj, 'status', 'readyReplicas');
  if (updated < want) return inProgress(`updated replicas: ${updated}/${want}`);
  if (replicas > updated) return inProgress(`pending termination: ${replicas - updated} old replica(s)`);
  if (available < want) return inProgress(`available replicas: ${available}/${want}`);
  if (ready < want) return inProgress(`ready replicas: ${ready}/${want}`);
  const availableCond = condition(obj, 'Available');
  if (availableCond && availableCond.status !== 'True')
    return inProgress(`not available: ${why(availableCond)}`);
  return current(`${want} replica(s) updated, ready and available`);
}

function statefulSet(obj: unknown): HealthAssessment {
  const want = num(obj, 'spec', 'replicas') ?? 1;
  const ready = count(obj, 'status', 'readyReplicas');
  if (ready < want) return inProgress(`ready replicas: ${ready}/${want}`);
  if (str(obj, 'spec', 'updateStrategy', 'type') === 'OnDelete') return current(`${want} replica(s) ready`);
  const partition = num(obj, 'spec', 'updateStrategy', 'rollingUpdate', 'partition') ?? 0;
  const updated = count(obj, 'status', 'updatedReplicas');
  if (partition > 0) {
    if (updated < want - partition)
      return inProgress(`updated replicas: ${updated}/${want - partition} (partition ${partition})`);
    return current(`partitioned rollout complete: ${updated} replica(s) updated`);
  }
  const currentReplicas = count(obj, 'status', 'currentReplicas');
  if (currentReplicas < want) return inProgress(`current replicas: ${currentReplicas}/${want}`);
  const currentRevision = str(obj, 'status', 'currentRevision');
  const updateRevision = str(obj, 'status', 'updateRevision');
  if (updateRevision && currentRevision !== updateRevision) {
    return inProgress(`rolling update: revision ${currentRevision || '(none)'} → ${updateRevision}`);
  }
  return current(`${want} replica(s) ready and updated`);
}

function daemonSet(obj: unknown): HealthAssessment {
  const want = num(obj, 'status', 'desiredNumberScheduled');
  if (want === undefined) return inProgress('no status yet (desiredNumberScheduled)');
  const scheduled = count(obj, 'status', 'currentNumberScheduled');
  const updated = count(obj, 'status', 'updatedNumberScheduled');
  const available = count(obj, 'status', 'numberAvailable');
  const ready = count(obj, 'status', 'numberReady');
  if (scheduled < want) return inProgress(`scheduled pods: ${scheduled}/${want}`);
  if (updated < want) return inProgress(`updated pods: ${updated}/${want}`);
  if (available < want) return inProgress(`available pods: ${available}/${want}`);
  if (ready < want) return inProgress(`ready pods: ${ready}/${want}`);
  return current(`${want} pod(s) scheduled, updated, ready and available`);
}

function job(obj: unknown): HealthAssessment {
  const failedCond = condition(obj, 'Failed');
  if (failedCond?.status === 'True') return failed(`job failed: ${why(failedCond)}`);
  const complete = condition(obj, 'Complete');
  if (complete?.status === 'True') return current('job complete');
  const succeeded = count(obj, 'status', 'succeeded');
  const active = count(obj, 'status', 'active');
  return inProgress(`job running: ${active} active, ${succeeded} succeeded`);
}

function pod(obj: unknown): HealthAssessment {
  const phase = str(obj, 'status', 'phase');
  if (phase === 'Succeeded') return current('pod succeeded');
  if (phase === 'Failed')
    return failed(`pod failed${str(obj, 'status', 'reason') ? `: ${str(obj, 'status', 'reason')}` : ''}`);
  const ready = condition(obj, 'Ready');
  if (phase === 'Running' && ready?.status === 'True') return current('pod running and ready');
  return inProgress(`pod ${phase || 'pending'}${ready ? `, ready ${ready.status}` : ''}`);
}

function pvc(obj: unknown): HealthAssessment {
  const phase = str(obj, 'status', 'phase');
  if (phase === 'Bound') return current('bound');
  return inProgress(`not bound: phase ${phase || 'unknown'}`);
}

function crd(obj: unknown): HealthAssessment {
  const names = condition(obj, 'NamesAccepted');
  if (names?.status === 'False') return failed(`names not accepted: ${why(names)}`);
  const established = condition(obj, 'Established');
  if (established?.status === 'True') return current('established');
  return inProgress(`not established${established ? `: ${why(established)}` : ''}`);
}

function service(obj: unknown): HealthAssessment {
  if (str(obj, 'spec', 'type') !== 'LoadBalancer') return current('service');
  const ingress = field(obj, 'status', 'loadBalancer', 'ingress');
  if (Array.isArray(ingress) && ingress.length > 0) return current('load balancer has an ingress');
  return inProgress('waiting for the load balancer to get an ingress');
}

/** kstatus' generic rules: Stalled and Reconciling (abnormal-true) and a Ready condition. */
function generic(obj: unknown): HealthAssessment {
  const stalled = condition(obj, 'Stalled');
  if (stalled?.status === 'True') return failed(`stalled: ${why(stalled)}`);
  const reconciling = condition(obj, 'Reconciling');
  if (reconciling?.status === 'True') return inProgress(`reconciling: ${why(reconciling)}`);
  const ready = condition(obj, 'Ready');
  if (!ready) return current('exists');
  const generation = num(obj, 'metadata', 'generation');
  if (
    ready.observedGeneration !== undefined &&
    generation !== undefined &&
    ready.observedGeneration !== generation
  ) {
    return inProgress(`Ready condition is for generation ${ready.observedGeneration} of ${generation}`);
  }
  if (ready.status === 'True') return current(`ready${ready.message ? `: ${ready.message}` : ''}`);
  return inProgress(`not ready (Ready ${ready.status || 'unset'})${why(ready) ? `: ${why(ready)}` : ''}`);
}

const BUILT_IN: Record<string, (obj: unknown) => HealthAssessment> = {
  'apps/Deployment': deployment,
  'apps/StatefulSet': statefulSet,
  'apps/DaemonSet': daemonSet,
  'batch/Job': job,
  '/Pod': pod,
  '/PersistentVolumeClaim': pvc,
  '/Service': service,
  'apiextensions.k8s.io/CustomResourceDefinition': crd,
};

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

// Expressions compile once per text: the hub checked them, but the agent never trusts that
const compiled = new Map<string, ParseResult | Error>();
const MAX_COMPILED = 512;

function compile(expr: string): ParseResult {
  let c = compiled.get(expr);
  if (!c) {
    try {
      c = compileHealthExpr('expression', expr);
    } catch (err) {
      c = err as Error;
    }
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(expr, c);
  }
  if (c instanceof Error) throw c;
  return c;
}

/** Flux's healthCheckExprs: in_progress, then failed, then current; none true = in progress. */
function byExpressions(obj: Obj, e: HealthExpr): HealthAssessment {
  // the object's top-level fields are the variables; an object with no status yet has an empty one
  const vars: Obj = { metadata: {}, spec: {}, status: {}, ...obj };
  for (const role of HEALTH_EXPR_ROLES) {
    const expr = e[role];
    if (!expr) continue;
    const name = `${healthExprField(role)} expression of ${e.kind}`;
    let result: unknown;
    try {
      result = compile(expr)(vars);
    } catch (err) {
      return { status: 'Unknown', message: `${name} failed: ${celErrorLine(err)}` };
    }
    if (typeof result !== 'boolean') {
      return {
        status: 'Unknown',
        message: `${name} gave ${typeof result === 'bigint' ? 'an int' : `a ${typeof result}`}, not a bool`,
      };
    }
    if (!result) continue;
    if (role === 'current') return current(`${name} is true`);
    if (role === 'failed') return failed(`${name} is true`);
    return inProgress(`${name} is true`);
  }
  return inProgress(`no health expression of ${e.kind} is true yet`);
}

/**
 * The health of `obj` (undefined: it does not exist). An expression given for its apiVersion and
 * kind decides; else the kstatus rules of its kind; else the generic rules (any object with a
 * Ready condition and observedGeneration; others are Current once they exist).
 */
export function assessHealth(obj: Obj | undefined, exprs: readonly HealthExpr[] = []): HealthAssessment {
  if (!obj) return { status: 'NotFound', message: 'not found' };
  const apiVersion = str(obj, 'apiVersion');
  const kind = str(obj, 'kind');
  const lag = generationLag(obj);
  if (lag) return lag;
  const expr = exprs.find((e) => e.apiVersion === apiVersion && e.kind === kind);
  if (expr) return byExpressions(obj, expr);
  const builtIn = BUILT_IN[`${groupOf(apiVersion)}/${kind}`];
  return builtIn ? builtIn(obj) : generic(obj);
}
