// Decides without a request whether applying a desired object would change the live one, so
// that a pass over an unchanged revision makes zero writes (Flux ssa's "skip objects that did
// not drift", but from the live object alone instead of a server-side dry run).
//
// The desired object has not drifted when:
//  1. the live object carries an Apply entry of our field manager in managedFields;
//  2. every value in the desired object equals the live value (the live object may have more:
//     defaults, other managers' fields, status);
//  3. every field our manager owns (its fieldsV1) is still present in the desired object —
//     otherwise applying would remove it.
// A false "drifted" only costs one apply (the caller then sees an unchanged resourceVersion and
// still reports "unchanged"); a false "not drifted" would hide a change, so every doubt answers
// "drifted".
import { isPlainObject, type ManifestObject } from '../kube/objects.js';

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  fieldsType?: string;
  fieldsV1?: unknown;
  subresource?: string;
}

export function hasDrifted(desired: ManifestObject, live: Record<string, unknown>, manager: string): boolean {
  const meta = live.metadata;
  if (!isPlainObject(meta)) return true;
  const entries = Array.isArray(meta.managedFields) ? (meta.managedFields as ManagedFieldsEntry[]) : [];
  const ours = entries.find(
    (e) => e.manager === manager && e.operation === 'Apply' && !e.subresource && e.fieldsType === 'FieldsV1',
  );
  if (!ours) return true;
  const want = comparable(desired);
  if (!isSubset(want, live)) return true;
  // the server stores a Secret's stringData as base64 data, yet records the applied stringData
  // keys as ours in managedFields (f:stringData): those are owned fields of the desired object too
  const owned =
    want === desired || !isPlainObject(desired.stringData)
      ? want
      : { ...want, stringData: desired.stringData };
  return !ownedFieldsPresent(ours.fieldsV1 ?? {}, owned);
}

/** The desired object as the API server would store it, for comparison. */
export function comparable(desired: ManifestObject): Record<string, unknown> {
  const out: Record<string, unknown> = { ...desired };
  // status is ignored by apply for kinds with a status subresource
  delete out.status;
  if (desired.kind === 'Secret' && desired.apiVersion === 'v1' && isPlainObject(desired.stringData)) {
    const data: Record<string, unknown> = isPlainObject(desired.data) ? { ...desired.data } : {};
    for (const [k, v] of Object.entries(desired.stringData)) {
      data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    }
    out.data = data;
    delete out.stringData;
  }
  return out;
}

/** Whether every value of `want` is in `have`. Lists must match element by element. */
export function isSubset(want: unknown, have: unknown): boolean {
  if (want === null || want === undefined) return true; // null in an apply means "not set by us"
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) return false;
    return want.every((w, i) => isSubset(w, have[i]));
  }
  if (isPlainObject(want)) {
    if (!isPlainObject(have)) return false;
    for (const [k, v] of Object.entries(want)) {
      if (v === null || v === undefined) continue;
      if (!(k in have)) return false;
      if (!isSubset(v, have[k])) return false;
    }
    return true;
  }
  return want === have;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * Walks a managedFields fieldsV1 set (keys "f:<field>", "k:<json key>", "v:<json value>",
 * "i:<index>", ".") against the desired object: true when every owned field is still desired.
 */
export function ownedFieldsPresent(fields: unknown, desired: unknown): boolean {
  if (!isPlainObject(fields)) return true;
  for (const [key, sub] of Object.entries(fields)) {
    if (key === '.') continue;
    const kind = key.slice(0, 2);
    const rest = key.slice(2);
    let child: unknown;
    if (kind === 'f:') {
      if (!isPlainObject(desired)) return false;
      child = desired[rest];
      if (child === undefined || child === null) return false;
    } else if (kind === 'k:') {
      if (!Array.isArray(desired)) return false;
      let keyObj: unknown;
      try {
        keyObj = JSON.parse(rest);
      } catch {
        return false;
      }
      if (!isPlainObject(keyObj)) return false;
      // a key field missing from the desired element was defaulted by the server (e.g. a port's
      // protocol "TCP"): it matches
      child = desired.find(
        (el) =>
          isPlainObject(el) &&
          Object.entries(keyObj).every(([k, v]) => el[k] === undefined || deepEqual(el[k], v)),
      );
      if (child === undefined) return false;
    } else if (kind === 'v:') {
      if (!Array.isArray(desired)) return false;
      let value: unknown;
      try {
        value = JSON.parse(rest);
      } catch {
        return false;
      }
      if (!desired.some((el) => deepEqual(el, value))) return false;
      continue;
    } else if (kind === 'i:') {
      const i = Number(rest);
      if (!Array.isArray(desired) || !(i < desired.length)) return false;
      child = desired[i];
    } else {
      return false; // a form we do not know: assume drift
    }
    if (!ownedFieldsPresent(sub, child)) return false;
  }
  return true;
}
