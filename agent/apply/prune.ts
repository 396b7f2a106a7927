// Deletes objects that left an assignment's revision (or the whole inventory of an assignment
// that went away), as the tenant's identity, with background propagation. An object that is
// already gone is skipped; so is one that another assignment has taken over since (its
// ownership labels no longer name this assignment).
import { mapLimit } from '../../lib/limit.js';
import { LABEL_ASSIGNMENT, LABEL_TENANT } from '../../proto/index.js';
import type { KubeClient } from '../kube/kube-client.js';
import { labelValue, type ObjectRef } from '../kube/objects.js';
import { failureMessage, type ApplyFailure, type ChangeSetEntry } from './ssa.js';
import { deleteOrder, isStageOne } from './staging.js';

export interface PruneResult {
  changes: ChangeSetEntry[];
  failures: ApplyFailure[];
}

export interface PruneOwner {
  tenant: string;
  assignment: string;
}

export async function prune(
  client: KubeClient,
  refs: readonly ObjectRef[],
  owner: PruneOwner,
  opts: { concurrency?: number } = {},
): Promise<PruneResult> {
  const result: PruneResult = { changes: [], failures: [] };
  // workloads and namespaced objects first, then the namespaces and CRDs they may live in
  const phases = [refs.filter((r) => !isStageOne(r)), refs.filter((r) => isStageOne(r))];
  for (const phase of phases) {
    const outcomes = await mapLimit(deleteOrder(phase), opts.concurrency ?? 16, async (ref) => {
      try {
        const live = await client.get(ref);
        if (!live) return { ref, action: 'skipped' as const };
        const labels = live.metadata?.labels ?? {};
        if (
          labels[LABEL_TENANT] !== labelValue(owner.tenant) ||
          labels[LABEL_ASSIGNMENT] !== labelValue(owner.assignment)
        ) {
          return { ref, action: 'skipped' as const };
        }
        const deleted = await client.delete(ref, { propagationPolicy: 'Background' });
        return { ref, action: deleted ? ('deleted' as const) : ('skipped' as const) };
      } catch (err) {
        return { ref, error: failureMessage('delete', ref, undefined, err) };
      }
    });
    for (const o of outcomes) {
      if ('error' in o && o.error) result.failures.push({ ref: o.ref, message: o.error });
      else if ('action' in o && o.action) result.changes.push({ ref: o.ref, action: o.action });
    }
  }
  return result;
}
