// What a server-side dry-run apply would change on one object: the JSON pointers (RFC 6901) of the
// fields whose values differ between the live object and the dry-run result. Only paths, never
// values, so a Secret's data never leaves the cluster through a diff.
import { isPlainObject } from '../kube/objects.js';

/** Fields the API server changes on every write, or that only describe the write itself. */
const VOLATILE = new Set([
  '/metadata/managedFields',
  '/metadata/resourceVersion',
  '/metadata/generation',
  '/metadata/creationTimestamp',
  '/metadata/uid',
  '/metadata/selfLink',
  '/status',
]);

/** Escapes one reference token of a JSON pointer. */
export function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** At most this many paths per object: the rest is summarized by the caller's count. */
export const MAX_FIELDS = 100;

/**
 * The pointers of the fields that differ between `live` and `next` (deepest differing field; an
 * array whose length changed is one field). Sorted; at most MAX_FIELDS.
 */
export function changedFields(live: unknown, next: unknown): string[] {
  const out: string[] = [];
  walk(live, next, '', out);
  return out.sort().slice(0, MAX_FIELDS);
}

function walk(a: unknown, b: unknown, path: string, out: string[]): void {
  if (VOLATILE.has(path) || out.length > MAX_FIELDS) return;
  if (isPlainObject(a) && isPlainObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      walk(a[k], b[k], `${path}/${pointerToken(k)}`, out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((v, i) => walk(v, b[i], `${path}/${i}`, out));
    return;
  }
  if (!sameValue(a, b)) out.push(path || '/');
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
