// What an agent does for the hub's control requests, on top of its queue, reconciler and cluster:
// reconcile now (and wait for that pass), diff (a server-side dry-run of the desired revision,
// nothing written) and tree (the inventory's objects and their health).
import type { EventEmitter } from 'node:events';
import {
  AssignmentState,
  type AssignmentStatus,
  type DesiredSet,
  type ObjectDiff,
  type ObjectNode,
} from '../../proto/index.js';
import { mapLimit } from '../../lib/limit.js';
import { assignmentKey, staleObjects } from '../apply/inventory.js';
import type { InventoryStore } from '../apply/inventory-store.js';
import type { AgentEvents } from '../agent.js';
import { kubeErrorMessage } from '../kube/errors.js';
import type { KubeClient, KubeCluster } from '../kube/kube-client.js';
import { describeRef, refOf, type ObjectRef } from '../kube/objects.js';
import type { PreviewPass } from '../reconciler/assignment.reconciler.js';
import { tenantUser } from '../tenants/tenant-onboarding.js';
import type { ControlHandlers } from './control-responder.js';
import { changedFields } from './object-diff.js';
import { objectHealth } from './object-health.js';

export interface AgentControlDeps {
  cluster: string;
  kube: KubeCluster;
  inventories: InventoryStore;
  /** The desired set in effect now. */
  desired(): DesiredSet;
  /** Reads this cluster's desired-set key again, so a set the hub just published is in effect. */
  refreshDesired(): Promise<void>;
  /** Runs a pass of the assignment as soon as possible. */
  requeue(key: string): void;
  /** Where every pass's status is announced. */
  statuses: EventEmitter<AgentEvents>;
  preview<T>(key: string, use: (p: PreviewPass) => Promise<T>): Promise<T>;
  /** Requests in flight to the API server per diff or tree (default 8). */
  concurrency?: number;
  now?: () => number;
}

export function agentControl(deps: AgentControlDeps): ControlHandlers {
  const now = deps.now ?? Date.now;
  const concurrency = deps.concurrency ?? 8;

  const requireDesired = (tenant: string, name: string) => {
    const a = deps.desired().assignments.find((x) => x.tenant === tenant && x.name === name);
    if (!a) throw new Error(`assignment ${tenant}/${name} is not desired on cluster ${deps.cluster}`);
    return a;
  };

  return {
    async reconcile(tenant, name, signal) {
      await deps.refreshDesired();
      requireDesired(tenant, name);
      const key = assignmentKey(tenant, name);
      // a pass that starts from now on runs with the newest desired set
      const since = now();
      return new Promise<AssignmentStatus>((resolve, reject) => {
        const done = () => {
          deps.statuses.off('status', onStatus);
          signal.removeEventListener('abort', onAbort);
        };
        const onStatus = (s: AssignmentStatus) => {
          if (assignmentKey(s.tenant, s.assignment) !== key || s.startedAtMs < since) return;
          if (s.state === AssignmentState.ASSIGNMENT_STATE_PROGRESSING) return;
          done();
          resolve(s);
        };
        const onAbort = () => {
          done();
          reject(new Error('no pass of the assignment finished before the deadline'));
        };
        if (signal.aborted) return onAbort();
        deps.statuses.on('status', onStatus);
        signal.addEventListener('abort', onAbort);
        deps.requeue(key);
      });
    },

    async diff(tenant, name) {
      requireDesired(tenant, name);
      return deps.preview(assignmentKey(tenant, name), async (p) => {
        const client = deps.kube.impersonate(tenantUser(p.tenant));
        const refs = p.objects.map((o) => refOf(o.object));
        const changes = await mapLimit(p.objects, concurrency, async ({ object, file }) => {
          const ref = refOf(object);
          try {
            const live = await client.get(ref);
            const next = await client.apply(object, { dryRun: true });
            if (!live) return entry(ref, 'created');
            const fields = changedFields(live, next);
            return entry(ref, fields.length > 0 ? 'changed' : 'unchanged', fields);
          } catch (err) {
            throw new Error(`diff ${describeRef(ref)} (from ${file}): ${kubeErrorMessage(err)}`, {
              cause: err,
            });
          }
        });
        const stale = p.desired.prune && p.inventory ? staleObjects(p.inventory.objects, refs) : [];
        const deleted = await mapLimit(stale, concurrency, async (ref) =>
          (await exists(client, ref)) ? [entry(ref, 'deleted')] : [],
        );
        return { revision: p.desired.source?.revision ?? '', diff: [...changes, ...deleted.flat()] };
      });
    },

    async tree(tenant, name) {
      const exprs = requireDesired(tenant, name).health?.exprs ?? [];
      const inv = await deps.inventories.get(tenant, name);
      if (!inv) return { revision: '', objects: [] };
      // read as the identity that applied them: the agent itself may not read tenants' objects
      const client = deps.kube.impersonate(inv.serviceAccount);
      const objects = await mapLimit(inv.objects, concurrency, async (ref): Promise<ObjectNode> => {
        try {
          return { ...ref, ...objectHealth(await client.get(ref), exprs) };
        } catch (err) {
          return { ...ref, health: 'Unknown', message: `cannot read it: ${kubeErrorMessage(err)}` };
        }
      });
      return { revision: inv.revision, objects };
    },
  };
}

function entry(ref: ObjectRef, action: string, fields: string[] = []): ObjectDiff {
  return { object: describeRef(ref), action, fields };
}

async function exists(client: KubeClient, ref: ObjectRef): Promise<boolean> {
  try {
    return (await client.get(ref)) !== undefined;
  } catch {
    return true; // cannot tell: it is still in the inventory, so say it would be pruned
  }
}
