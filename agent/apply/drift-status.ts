// Drift in a reconcile pass: the apply options an assignment's drift policy gives, and what its
// status says about the objects that drifted.
import type { AssignmentStatus, DesiredAssignment, DriftedObject } from '../../proto/index.js';
import { refKey } from '../kube/objects.js';
import { driftPolicy } from './drift-fields.js';
import type { Inventory } from './inventory.js';
import type { ApplyOptions } from './ssa.js';

/** Most drifted objects a status lists. */
export const MAX_DRIFTED_OBJECTS = 20;

/**
 * The apply options of a pass: the assignment's policy, and the objects it applied at the revision
 * it applies now (a difference on those is drift; on the objects of a new revision it is not).
 */
export function driftApplyOptions(
  a: DesiredAssignment,
  inventory: Inventory | undefined,
  now: number,
): ApplyOptions {
  const same =
    inventory !== undefined && inventory.revision !== '' && inventory.revision === a.source?.revision;
  return {
    policy: driftPolicy(a),
    applied: same ? new Set(inventory.objects.map(refKey)) : undefined,
    now,
  };
}

/**
 * The drifted objects a status lists: this pass's, then the corrections reported before at the
 * same applied revision (so the status a correction produced is not wiped by the next quiet pass);
 * reported-only drift that is no longer found is gone.
 */
export function reportedDrift(
  found: readonly DriftedObject[],
  previous: AssignmentStatus | undefined,
  appliedRevision: string,
): DriftedObject[] {
  const out = [...found];
  if (previous && previous.appliedRevision === appliedRevision) {
    for (const d of previous.drifted ?? []) {
      if (d.corrected && !out.some((o) => o.object === d.object)) out.push(d);
    }
  }
  return out.slice(0, MAX_DRIFTED_OBJECTS);
}

/** The status message's words on this pass's drift (none when nothing drifted). */
export function driftNote(found: readonly DriftedObject[]): string[] {
  const describe = (ds: readonly DriftedObject[]) =>
    ds
      .slice(0, 3)
      .map((d) => `${d.object} ${d.fields.join(',')}`)
      .join(', ') + (ds.length > 3 ? ` and ${ds.length - 3} more` : '');
  const corrected = found.filter((d) => d.corrected);
  const reported = found.filter((d) => !d.corrected);
  return [
    ...(corrected.length ? [`corrected drift on ${corrected.length} object(s): ${describe(corrected)}`] : []),
    ...(reported.length
      ? [`drift on ${reported.length} object(s), not corrected (drift mode report): ${describe(reported)}`]
      : []),
  ];
}
