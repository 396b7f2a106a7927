// Server-side apply of a set of objects, staged (Namespaces, CRDs and ClusterRoles first; CRDs
// must be established before their custom resources), with bounded concurrency and a change set.
// Objects that did not drift are not written at all (see drift.ts): a pass over an unchanged
// revision costs one list (or get) per kind and namespace and no writes.
//
// Apply never takes fields another field manager owns (force=false: the 409 is reported field by
// field) unless the assignment sets force, or the object is one this assignment applied at this
// very revision and someone changed it since: that is drift, and mode "correct" takes it back.
// A change to an immutable field fails with the field named, or with force deletes and recreates.
import { FIELD_MANAGER, type DriftedObject } from '../../proto/index.js';
import { mapLimit } from '../../lib/limit.js';
import type { Logger } from '../../lib/log.js';
import type { Discovery } from '../kube/discovery.js';
import { conflictsOf, immutableFieldsOf, kubeErrorMessage } from '../kube/errors.js';
import type { KubeClient, LiveObject } from '../kube/kube-client.js';
import { describeRef, refKey, refOf, type ManifestObject, type ObjectRef } from '../kube/objects.js';
import { hasDrifted } from './drift.js';
import { DELETED, driftedFields, withIgnoredFields, type DriftPolicy } from './drift-fields.js';
import { isCrd, stageObjects } from './staging.js';

export type Action = 'created' | 'configured' | 'unchanged' | 'deleted' | 'skipped';

export interface ApplyItem {
  object: ManifestObject;
  /** Where the object came from, for messages. */
  file?: string;
}

export interface ChangeSetEntry {
  ref: ObjectRef;
  action: Action;
  file?: string;
}

export interface ApplyFailure {
  ref: ObjectRef;
  file?: string;
  message: string;
}

export interface ApplyResult {
  changes: ChangeSetEntry[];
  failures: ApplyFailure[];
  /** Objects applied at this revision before that someone changed since (corrected or reported). */
  drifted: DriftedObject[];
}

/** How one apply treats drift and other writers (default: correct, nothing ignored, no force). */
export interface ApplyOptions {
  policy?: DriftPolicy;
  /** Take fields other managers own (the agent's own objects: tenant namespaces, RBAC). */
  force?: boolean;
  /** refKeys of the objects this assignment applied at the revision being applied now. */
  applied?: ReadonlySet<string>;
  now?: number;
}

export interface ApplierOptions {
  discovery: Discovery;
  log: Logger;
  /** Requests in flight at once (default 16). */
  concurrency?: number;
  /** A group of this many objects of one kind and namespace is read with one list (default 4). */
  listThreshold?: number;
  /** How long to wait for a CRD to be established, or a recreated object to be gone (default 30 s). */
  crdTimeoutMs?: number;
  /** Sees every object an apply wrote (the drift watch skips the events of our own writes). */
  onWrite?(live: LiveObject): void;
}

/** "ConfigMap/team-a/cfg" (or "Namespace/team-a"): DriftedObject.object. */
export function driftObjectName(ref: ObjectRef): string {
  return [ref.kind, ...(ref.namespace ? [ref.namespace] : []), ref.name].join('/');
}

/** live: the object; null: known not to exist; undefined: could not be read. */
type Live = LiveObject | null | undefined;

export function failureMessage(verb: string, ref: ObjectRef, file: string | undefined, err: unknown): string {
  return `${verb} ${describeRef(ref)}${file ? ` (from ${file})` : ''}: ${kubeErrorMessage(err)}`;
}

/**
 * An apply's failure as the user needs it: immutable fields and other managers' fields are named,
 * with what to do (--force); anything else as the API server said it.
 */
export function applyFailureMessage(ref: ObjectRef, file: string | undefined, err: unknown): string {
  const what = `apply ${describeRef(ref)}${file ? ` (from ${file})` : ''}`;
  const immutable = immutableFieldsOf(err);
  if (immutable.length > 0) {
    const fields = immutable.filter(Boolean);
    return `${what}: ${fields.length ? `${fields.join(', ')} cannot be changed (immutable)` : 'an immutable field cannot be changed'}: ${kubeErrorMessage(err)}; use --force on the assignment to delete and recreate the object`;
  }
  const conflicts = conflictsOf(err);
  if (conflicts.length > 0) {
    return `${what}: ${conflicts.length} field(s) owned by another field manager: ${conflicts
      .map((c) => `${c.field || '?'} (${c.message})`)
      .join(
        '; ',
      )}; change them where they were set, add a --drift-ignore rule, or use --force on the assignment to take them`;
  }
  return failureMessage('apply', ref, file, err);
}

export class Applier {
  constructor(private readonly opts: ApplierOptions) {}

  async apply(
    client: KubeClient,
    items: readonly ApplyItem[],
    opts: ApplyOptions = {},
  ): Promise<ApplyResult> {
    const result: ApplyResult = { changes: [], failures: [], drifted: [] };
    for (const stage of stageObjects(items)) {
      const r = await this.applyStage(client, stage, opts);
      result.changes.push(...r.changes);
      result.failures.push(...r.failures);
      result.drifted.push(...r.drifted);
      const changed = new Set(r.changes.filter((c) => c.action !== 'unchanged').map((c) => refKey(c.ref)));
      const crds = stage.filter((i) => isCrd(i.object) && changed.has(refKey(refOf(i.object))));
      if (crds.length > 0) {
        const failed = await this.waitForCrds(client, crds);
        result.failures.push(...failed);
      }
    }
    return result;
  }

  private async applyStage(
    client: KubeClient,
    items: readonly ApplyItem[],
    opts: ApplyOptions,
  ): Promise<ApplyResult> {
    const policy = opts.policy ?? { mode: 'correct', ignore: [], force: false };
    const concurrency = this.opts.concurrency ?? 16;
    const threshold = this.opts.listThreshold ?? 4;
    // one list per (apiVersion, kind, namespace) group that is big enough, shared by its objects
    const groups = new Map<string, ApplyItem[]>();
    for (const item of items) {
      const k = `${item.object.apiVersion}\0${item.object.kind}\0${item.object.metadata.namespace ?? ''}`;
      const g = groups.get(k);
      if (g) g.push(item);
      else groups.set(k, [item]);
    }
    const lists = new Map<string, Promise<Map<string, LiveObject> | undefined>>();
    const lookup = async (item: ApplyItem): Promise<Live> => {
      const { apiVersion, kind, metadata } = item.object;
      const k = `${apiVersion}\0${kind}\0${metadata.namespace ?? ''}`;
      if ((groups.get(k)?.length ?? 0) >= threshold) {
        let p = lists.get(k);
        if (!p) {
          p = client
            .list(apiVersion, kind, metadata.namespace)
            .then((objs) => new Map(objs.map((o) => [String(o.metadata?.name), o])))
            .catch(() => undefined);
          lists.set(k, p);
        }
        const m = await p;
        if (m) return m.get(metadata.name) ?? null;
      }
      try {
        return (await client.get(refOf(item.object))) ?? null;
      } catch {
        return undefined; // e.g. forbidden to read; the apply decides
      }
    };

    const outcomes = await mapLimit(items, concurrency, async (item) => {
      const ref = refOf(item.object);
      try {
        if (!(await this.opts.discovery.resource(ref.apiVersion, ref.kind))) {
          throw new Error(
            `no matches for kind "${ref.kind}" in version "${ref.apiVersion}" (is its CustomResourceDefinition installed?)`,
          );
        }
        const live = await lookup(item);
        const desired = withIgnoredFields(item.object, live, policy.ignore);
        if (live && !hasDrifted(desired, live, FIELD_MANAGER)) {
          return { change: { ref, action: 'unchanged' as Action, file: item.file } };
        }
        // drift: an object applied at this revision that someone changed or deleted since
        let drift: DriftedObject | undefined;
        if (live !== undefined && opts.applied?.has(refKey(ref))) {
          const fields = live === null ? [DELETED] : driftedFields(desired, live);
          if (fields.length > 0) {
            drift = {
              object: driftObjectName(ref),
              fields,
              corrected: false,
              detectedAtMs: opts.now ?? Date.now(),
            };
            if (policy.mode === 'report') {
              return { change: { ref, action: 'unchanged' as Action, file: item.file }, drift };
            }
          }
        }
        const force = Boolean(opts.force || policy.force || drift);
        let applied: LiveObject;
        let recreated = false;
        try {
          applied = await client.apply(desired, { force });
        } catch (err) {
          const immutable = immutableFieldsOf(err);
          if (immutable.length === 0 || !policy.force) throw err;
          applied = await this.recreate(client, ref, item.object);
          recreated = true;
        }
        this.opts.onWrite?.(applied);
        if (drift) drift.corrected = true;
        let action: Action;
        if (live === null) action = 'created';
        else if (live === undefined || recreated) action = 'configured';
        else
          action =
            applied.metadata?.resourceVersion === live.metadata?.resourceVersion ? 'unchanged' : 'configured';
        return { change: { ref, action, file: item.file }, drift };
      } catch (err) {
        return { failure: { ref, file: item.file, message: applyFailureMessage(ref, item.file, err) } };
      }
    });
    const result: ApplyResult = { changes: [], failures: [], drifted: [] };
    for (const o of outcomes) {
      if ('drift' in o && o.drift) result.drifted.push(o.drift);
      if ('change' in o && o.change) result.changes.push(o.change);
      else if ('failure' in o && o.failure) result.failures.push(o.failure);
    }
    return result;
  }

  /**
   * --force on an immutable-field change: deletes the object (as the tenant), waits until it is
   * gone, and applies the revision's object anew.
   */
  private async recreate(client: KubeClient, ref: ObjectRef, object: ManifestObject): Promise<LiveObject> {
    await client.delete(ref, { propagationPolicy: 'Background' });
    const deadline = Date.now() + (this.opts.crdTimeoutMs ?? 30_000);
    while (await client.get(ref)) {
      if (Date.now() > deadline) throw new Error(`recreate: ${describeRef(ref)} is still being deleted`);
      await new Promise((r) => setTimeout(r, 100));
    }
    this.opts.log.info(
      { object: describeRef(ref) },
      'recreated an object whose immutable fields changed (force)',
    );
    return client.apply(object, { force: true });
  }

  /** Waits until each CRD reports Established, then forgets cached discovery of its group. */
  private async waitForCrds(client: KubeClient, crds: readonly ApplyItem[]): Promise<ApplyFailure[]> {
    const timeoutMs = this.opts.crdTimeoutMs ?? 30_000;
    const failures: ApplyFailure[] = [];
    await Promise.all(
      crds.map(async (item) => {
        const ref = refOf(item.object);
        const deadline = Date.now() + timeoutMs;
        let lastError = 'not established yet';
        for (;;) {
          try {
            const live = await client.get(ref);
            const conditions = ((live?.status as { conditions?: unknown[] } | undefined)?.conditions ??
              []) as Array<{
              type?: string;
              status?: string;
              message?: string;
            }>;
            if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) break;
            const names = conditions.find((c) => c.type === 'NamesAccepted' && c.status === 'False');
            if (names) lastError = names.message ?? 'names not accepted';
          } catch (err) {
            lastError = kubeErrorMessage(err);
          }
          if (Date.now() > deadline) {
            failures.push({
              ref,
              file: item.file,
              message: `wait for ${describeRef(ref)}${item.file ? ` (from ${item.file})` : ''} to be established: ${lastError}`,
            });
            return;
          }
          await new Promise((r) => setTimeout(r, 200));
        }
        const spec = item.object.spec as
          { group?: string; versions?: Array<{ name?: string }>; version?: string } | undefined;
        for (const v of spec?.versions ?? (spec?.version ? [{ name: spec.version }] : [])) {
          if (spec?.group && v.name) this.opts.discovery.invalidate(`${spec.group}/${v.name}`);
        }
      }),
    );
    if (failures.length === 0) this.opts.log.debug({ crds: crds.length }, 'CRDs established');
    return failures;
  }
}
