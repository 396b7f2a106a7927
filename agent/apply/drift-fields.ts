// What drifted and what is never applied over: the assignment's drift policy (mode, ignore rules,
// force), the fields of an applied object that someone else changed, and the ignore rules applied
// to a desired object before it is compared and applied.
//
// Ignore rules work as Argo CD's RespectIgnoreDifferences: where the live object has an ignored
// field, the desired object takes the live value, so the apply neither changes it nor drops it
// (dropping a field we once applied would delete it when no other manager owns it, e.g. reset a
// Deployment's replicas to 1 under an autoscaler); where the live object lacks it (a new object),
// the revision's value is applied as the initial one. Either way it is never reported as drift.
import { parseDriftIgnore, type DesiredAssignment, type DriftIgnoreRule } from '../../proto/index.js';
import { groupOf, isPlainObject, type ManifestObject } from '../kube/objects.js';
import { comparable } from './drift.js';

export type DriftMode = 'correct' | 'report';

export interface DriftPolicy {
  mode: DriftMode;
  ignore: DriftIgnoreRule[];
  /** Recreate on immutable-field changes; take fields other managers own. */
  force: boolean;
}

/** Most fields named per drifted object (the status stays small). */
export const MAX_DRIFTED_FIELDS = 10;
/** The field list of an object that is gone. */
export const DELETED = '(deleted)';

/** The drift policy of an assignment as the desired set gives it (validated already). */
export function driftPolicy(a: Pick<DesiredAssignment, 'drift' | 'force'>): DriftPolicy {
  return {
    mode: a.drift?.mode === 'report' ? 'report' : 'correct',
    ignore: (a.drift?.ignore ?? []).map((r, i) => parseDriftIgnore(`drift.ignore[${i}]`, r)),
    force: Boolean(a.force),
  };
}

/** The rules that name this object's kind (and group, when the rule gives one). */
export function rulesFor(obj: { apiVersion: string; kind: string }, rules: readonly DriftIgnoreRule[]) {
  return rules.filter(
    (r) => r.kind === obj.kind && (r.group === undefined || r.group === groupOf(obj.apiVersion)),
  );
}

function lookup(obj: unknown, path: readonly string[]): { found: boolean; value?: unknown } {
  let cur: unknown = obj;
  for (const token of path) {
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token) || Number(token) >= cur.length) return { found: false };
      cur = cur[Number(token)];
    } else if (isPlainObject(cur)) {
      if (!(token in cur)) return { found: false };
      cur = cur[token];
    } else return { found: false };
  }
  return { found: cur !== undefined, value: cur };
}

/** Sets (or, with `remove`, deletes) the field at `path` of `obj` when its parent exists. */
function put(obj: unknown, path: readonly string[], value: unknown, remove: boolean): void {
  const parent = lookup(obj, path.slice(0, -1));
  if (!parent.found) return;
  const key = path[path.length - 1];
  const p = parent.value;
  if (Array.isArray(p)) {
    if (!/^(0|[1-9][0-9]*)$/.test(key) || Number(key) >= p.length) return;
    if (remove) p.splice(Number(key), 1);
    else p[Number(key)] = value;
  } else if (isPlainObject(p)) {
    if (remove) delete p[key];
    else p[key] = value;
  }
}

/**
 * The desired object with the ignore rules applied against the live object (see the top of this
 * file); the object itself when no rule names its kind.
 */
export function withIgnoredFields(
  desired: ManifestObject,
  live: Record<string, unknown> | null | undefined,
  rules: readonly DriftIgnoreRule[],
): ManifestObject {
  const mine = rulesFor(desired, rules);
  if (mine.length === 0 || !live) return desired;
  const out = structuredClone(desired);
  for (const rule of mine) {
    const have = lookup(live, rule.path);
    if (have.found) put(out, rule.path, structuredClone(have.value), false);
    else put(out, rule.path, undefined, true);
  }
  return out;
}

function escape(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * JSON pointers of the desired fields whose live value differs or is missing (a list of another
 * length is named as a whole), at most MAX_DRIFTED_FIELDS. Values the server added (defaults,
 * other managers' fields, status) are not drift.
 */
export function driftedFields(desired: ManifestObject, live: Record<string, unknown>): string[] {
  const out: string[] = [];
  const walk = (want: unknown, have: unknown, at: string): void => {
    if (out.length >= MAX_DRIFTED_FIELDS) return;
    if (want === null || want === undefined) return;
    if (Array.isArray(want)) {
      if (!Array.isArray(have) || have.length !== want.length) out.push(at);
      else want.forEach((w, i) => walk(w, have[i], `${at}/${i}`));
    } else if (isPlainObject(want)) {
      if (!isPlainObject(have)) out.push(at);
      else for (const [k, v] of Object.entries(want)) walk(v, have[k], `${at}/${escape(k)}`);
    } else if (want !== have) out.push(at);
  };
  walk(comparable(desired), live, '');
  return out;
}
