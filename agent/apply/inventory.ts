// The inventory of an assignment on this cluster: exactly which objects it applied, kept in a
// ConfigMap in the agent's namespace. Its difference with the next revision's objects is the
// prune set (Flux's inventory). Pure functions here; I/O in inventory-store.ts.
import { createHash } from 'node:crypto';
import { isDnsLabel } from '../../lib/names.js';
import { refKey, type ObjectRef } from '../kube/objects.js';

export { labelValue } from '../kube/objects.js';

export interface Inventory {
  tenant: string;
  assignment: string;
  /** The last revision applied completely ("" before the first success). */
  revision: string;
  /** Whether objects that leave the revision are deleted; remembered for when the assignment goes away. */
  prune: boolean;
  /** The identity objects were applied as, used to delete them. */
  serviceAccount: string;
  objects: ObjectRef[];
}

export const INVENTORY_LABEL = 'gitfleet.dev/inventory';
export const INVENTORY_DATA_KEY = 'inventory.json';
export const ANNOTATION_TENANT = 'gitfleet.dev/tenant';
export const ANNOTATION_ASSIGNMENT = 'gitfleet.dev/assignment';

function shortHash(s: string, n = 16): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

/** ConfigMap name of an assignment's inventory: readable when it fits, hashed otherwise. */
export function inventoryName(tenant: string, assignment: string): string {
  const readable = `gitfleet-inventory.${tenant}.${assignment}`;
  if (isDnsLabel(tenant) && isDnsLabel(assignment) && readable.length <= 253) return readable;
  return `gitfleet-inventory.${shortHash(`${tenant}/${assignment}`, 32)}`;
}

/** The assignment key the work queue and status use. */
export function assignmentKey(tenant: string, assignment: string): string {
  return `${tenant}/${assignment}`;
}

export function encodeInventory(inv: Inventory): string {
  const objects = [...inv.objects]
    .sort((a, b) => (refKey(a) < refKey(b) ? -1 : refKey(a) > refKey(b) ? 1 : 0))
    .map((r) => [r.apiVersion, r.kind, r.namespace, r.name]);
  return JSON.stringify({
    tenant: inv.tenant,
    assignment: inv.assignment,
    revision: inv.revision,
    prune: inv.prune,
    serviceAccount: inv.serviceAccount,
    objects,
  });
}

export function decodeInventory(text: string): Inventory {
  const raw = JSON.parse(text) as Partial<Omit<Inventory, 'objects'>> & { objects?: unknown[] };
  if (typeof raw.tenant !== 'string' || typeof raw.assignment !== 'string' || !Array.isArray(raw.objects)) {
    throw new Error('inventory is missing tenant, assignment or objects');
  }
  return {
    tenant: raw.tenant,
    assignment: raw.assignment,
    revision: typeof raw.revision === 'string' ? raw.revision : '',
    prune: raw.prune === true,
    serviceAccount: typeof raw.serviceAccount === 'string' ? raw.serviceAccount : '',
    objects: raw.objects.map((o) => {
      if (!Array.isArray(o) || o.length !== 4 || !o.every((x) => typeof x === 'string')) {
        throw new Error(`inventory entry ${JSON.stringify(o)} is not [apiVersion, kind, namespace, name]`);
      }
      const [apiVersion, kind, namespace, name] = o as string[];
      return { apiVersion, kind, namespace, name };
    }),
  };
}

/** Objects of `previous` that are not in `next` (by group, kind, namespace, name). */
export function staleObjects(previous: readonly ObjectRef[], next: readonly ObjectRef[]): ObjectRef[] {
  const keep = new Set(next.map(refKey));
  return previous.filter((r) => !keep.has(refKey(r)));
}

/** Union of reference lists; on a clash the later list's entry (its apiVersion) wins. */
export function unionObjects(...lists: ReadonlyArray<readonly ObjectRef[]>): ObjectRef[] {
  const m = new Map<string, ObjectRef>();
  for (const list of lists) for (const r of list) m.set(refKey(r), r);
  return [...m.values()];
}

export function sameInventory(a: Inventory | undefined, b: Inventory): boolean {
  return a !== undefined && encodeInventory(a) === encodeInventory(b);
}
