// The paths of a pass that need no API server: how each ending becomes a status with conditions.
// Applying real revisions is covered by the integration and end-to-end suites.
import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  AssignmentState,
  ConditionStatus,
  ConditionType,
  DesiredSet,
  LABEL_ASSIGNMENT,
  LABEL_TENANT,
  Reason,
  findCondition,
  type AssignmentStatus,
  type DesiredAssignment,
} from '../../proto/index.js';
import { createLogger } from '../../lib/log.js';
import type { Inventory } from '../apply/inventory.js';
import type { InventoryStore } from '../apply/inventory-store.js';
import type { Applier } from '../apply/ssa.js';
import type { KubeCluster } from '../kube/kube-client.js';
import type { ObjectRef } from '../kube/objects.js';
import type { GitSource } from '../sources/git/git-source.js';
import type { TenantOnboarding } from '../tenants/tenant-onboarding.js';
import { AssignmentReconciler } from './assignment.reconciler.js';

const SA = 'system:serviceaccount:team-a:gitfleet-reconciler';
const cm = (name: string): ObjectRef => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'team-a', name });

class FakeInventories {
  stored: Inventory | undefined;
  saved: Inventory[] = [];
  deleted = 0;
  failGet = false;
  failDelete = false;
  async get(): Promise<Inventory | undefined> {
    if (this.failGet) throw new Error('configmaps is forbidden');
    return this.stored;
  }
  async save(inv: Inventory): Promise<void> {
    this.saved.push(inv);
    this.stored = inv;
  }
  async delete(): Promise<void> {
    if (this.failDelete) throw new Error('etcdserver: request timed out');
    this.deleted++;
    this.stored = undefined;
  }
}

/** A cluster where every object exists, labelled for team-a/web, and `undeletable` refuses deletion. */
function fakeKube(undeletable = new Set<string>()): KubeCluster {
  const client = {
    get: async (ref: ObjectRef) => ({
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name, labels: { [LABEL_TENANT]: 'team-a', [LABEL_ASSIGNMENT]: 'web' } },
    }),
    delete: async (ref: ObjectRef) => {
      if (undeletable.has(ref.name)) throw new Error('admission webhook denied the request');
      return true;
    },
  };
  return { impersonate: () => client } as unknown as KubeCluster;
}

function condition(type: ConditionType, s: AssignmentStatus | undefined): [string, string] | undefined {
  const c = findCondition(s?.conditions, type);
  return c && [c.status, c.reason];
}

describe('AssignmentReconciler', () => {
  let inventories: FakeInventories;
  let desired: DesiredSet;
  let previous: AssignmentStatus | undefined;
  let progress: AssignmentStatus[];
  let clock: number;

  const reconciler = (kube = fakeKube()) =>
    new AssignmentReconciler({
      cluster: 'c1',
      kube,
      inventories: inventories as unknown as InventoryStore,
      git: {} as GitSource,
      applier: {} as Applier,
      tenants: {} as TenantOnboarding,
      desired: () => desired,
      onProgress: (s) => progress.push(s),
      previous: () => previous,
      log: createLogger('test', 'silent'),
      now: () => clock,
    });

  const web = (fields: Partial<DesiredAssignment> = {}) => ({
    tenant: 'team-a',
    name: 'web',
    source: { type: 'git', url: 'git://x', revision: 'main@sha1:abc' },
    ...fields,
  });

  const inventory = (fields: Partial<Inventory> = {}): Inventory => ({
    tenant: 'team-a',
    assignment: 'web',
    revision: 'main@sha1:old',
    prune: true,
    serviceAccount: SA,
    objects: [cm('a'), cm('b')],
    ...fields,
  });

  beforeEach(() => {
    inventories = new FakeInventories();
    desired = DesiredSet.fromPartial({ cluster: 'c1', generation: 4 });
    previous = undefined;
    progress = [];
    clock = 1000;
  });

  it('reports a failure to read the inventory as InventoryFailed, to retry', async () => {
    inventories.failGet = true;
    desired = DesiredSet.fromPartial({ cluster: 'c1', generation: 4, assignments: [web()] });
    const { outcome, status } = await reconciler().reconcile('team-a/web');
    expect(outcome).toBe('retry');
    expect(status?.reason).toBe(Reason.InventoryFailed);
    expect(status?.message).toBe('read inventory: configmaps is forbidden');
    expect(condition(ConditionType.Ready, status)).toEqual([ConditionStatus.False, Reason.InventoryFailed]);
    expect(condition(ConditionType.Stalled, status)).toBeUndefined();
  });

  it('says Reconciling while it starts a new revision, and Stalled when the failure is terminal', async () => {
    // no identity for the tenant in the desired set: retrying cannot help
    desired = DesiredSet.fromPartial({ cluster: 'c1', generation: 4, assignments: [web()] });
    const { outcome, status } = await reconciler().reconcile('team-a/web');
    expect(progress).toHaveLength(1);
    expect(condition(ConditionType.Reconciling, progress[0])).toEqual([
      ConditionStatus.True,
      Reason.Progressing,
    ]);
    expect(condition(ConditionType.Ready, progress[0])).toEqual([
      ConditionStatus.Unknown,
      Reason.Progressing,
    ]);
    expect(outcome).toBe('stalled');
    expect(condition(ConditionType.Ready, status)).toEqual([ConditionStatus.False, Reason.TenantSetupFailed]);
    expect(condition(ConditionType.Stalled, status)).toEqual([
      ConditionStatus.True,
      Reason.TenantSetupFailed,
    ]);
    expect(condition(ConditionType.Reconciling, status)).toBeUndefined();
    expect(findCondition(status?.conditions, ConditionType.Ready)?.observedGeneration).toBe(4);
  });

  it('leaves the conditions of a suspended assignment as they were', async () => {
    inventories.stored = inventory();
    desired = DesiredSet.fromPartial({ cluster: 'c1', generation: 4, assignments: [web({ suspend: true })] });
    const readyBefore = {
      type: ConditionType.Ready,
      status: ConditionStatus.True,
      reason: Reason.ReconciliationSucceeded,
      message: 'applied revision old',
      observedGeneration: 3,
      lastTransitionTimeMs: 500,
    };
    previous = { conditions: [readyBefore] } as AssignmentStatus;
    const { outcome, status } = await reconciler().reconcile('team-a/web');
    expect(outcome).toBe('ok');
    expect(status?.state).toBe(AssignmentState.ASSIGNMENT_STATE_SUSPENDED);
    expect(status?.conditions).toEqual([readyBefore]);
    expect(progress).toHaveLength(0);
  });

  it('prunes and forgets a removed assignment, reporting Deleted', async () => {
    inventories.stored = inventory();
    const { outcome, status } = await reconciler().reconcile('team-a/web');
    expect(outcome).toBe('forget');
    expect(inventories.deleted).toBe(1);
    expect(status).toMatchObject({
      state: AssignmentState.ASSIGNMENT_STATE_UNSPECIFIED,
      reason: Reason.Deleted,
      message: 'assignment removed from this cluster; 2 object(s) deleted',
      appliedRevision: '',
      objects: 0,
      changes: { deleted: 2 },
    });
    expect(condition(ConditionType.Ready, status)).toEqual([ConditionStatus.False, Reason.Deleted]);
  });

  it('keeps what it could not delete in the inventory and fails with PruneFailed', async () => {
    inventories.stored = inventory();
    const { outcome, status } = await reconciler(fakeKube(new Set(['b']))).reconcile('team-a/web');
    expect(outcome).toBe('retry');
    expect(status?.reason).toBe(Reason.PruneFailed);
    expect(status?.message).toContain('admission webhook denied the request');
    expect(status?.changes?.deleted).toBe(1);
    expect(inventories.deleted).toBe(0);
    expect(inventories.saved).toEqual([inventory({ objects: [cm('b')] })]);
    expect(condition(ConditionType.Ready, status)).toEqual([ConditionStatus.False, Reason.PruneFailed]);
  });

  it('reports a failure to delete the inventory as InventoryFailed', async () => {
    inventories.stored = inventory({ prune: false });
    inventories.failDelete = true;
    const { outcome, status } = await reconciler().reconcile('team-a/web');
    expect(outcome).toBe('retry');
    expect(status?.reason).toBe(Reason.InventoryFailed);
    expect(status?.message).toBe('delete inventory: etcdserver: request timed out');
  });

  it('carries the transition time of Ready over from the previous status while it stays False', async () => {
    inventories.stored = inventory({ prune: false });
    inventories.failDelete = true;
    previous = (await reconciler().reconcile('team-a/web')).status;
    inventories.failDelete = false;
    clock = 3000;
    const { status } = await reconciler().reconcile('team-a/web');
    expect(findCondition(status?.conditions, ConditionType.Ready)).toMatchObject({
      status: ConditionStatus.False,
      reason: Reason.Deleted,
      lastTransitionTimeMs: 1000,
    });
  });

  describe("a 'poll' while waiting for health", () => {
    const refuse = (what: string) => () => Promise.reject(new Error(`${what} must not run`));
    const polling = () =>
      new AssignmentReconciler({
        cluster: 'c1',
        kube: fakeKube(),
        inventories: inventories as unknown as InventoryStore,
        git: { fetch: refuse('the source') } as unknown as GitSource,
        applier: { apply: refuse('apply') } as unknown as Applier,
        tenants: { ensure: refuse('tenant setup') } as unknown as TenantOnboarding,
        desired: () => desired,
        previous: () => previous,
        log: createLogger('test', 'silent'),
        now: () => clock,
      });

    beforeEach(() => {
      desired = DesiredSet.fromPartial({
        cluster: 'c1',
        generation: 4,
        tenants: [{ name: 'team-a', namespaces: ['team-a'], serviceAccount: 'gitfleet-reconciler' }],
        assignments: [web({ health: { wait: true, checks: [], timeoutSeconds: 0, exprs: [] } })],
      });
    });

    it('of the revision in the inventory only reads health again: no source, tenant setup or apply', async () => {
      inventories.stored = inventory({ revision: 'main@sha1:abc' });
      const { outcome, status } = await polling().reconcile('team-a/web', { poll: true });
      expect(outcome).toBe('ok');
      expect(status?.state).toBe(AssignmentState.ASSIGNMENT_STATE_READY);
      expect(status?.message).toMatch(
        /^applied revision .*abc \(health re-checked, nothing re-applied\); 2 object\(s\) healthy$/,
      );
      expect(status?.changes).toEqual({ created: 0, configured: 0, unchanged: 0, deleted: 0 });
      expect(inventories.saved).toEqual([]);
    });

    it('runs the full pass for anything else: not a poll, or another revision in the inventory', async () => {
      inventories.stored = inventory({ revision: 'main@sha1:abc' });
      const notPoll = await polling().reconcile('team-a/web', { poll: false });
      expect(notPoll.status?.message).toBe('tenant: tenant setup must not run');
      inventories.stored = inventory({ revision: 'main@sha1:old' });
      const newRevision = await polling().reconcile('team-a/web', { poll: true });
      expect(newRevision.status?.message).toBe('tenant: tenant setup must not run');
    });
  });
});
