// The agent's memory under concurrency: passes reconciling at once hold at most maxBytesInFlight
// of manifests together. Real revisions on disk are rendered; the cluster side (tenant, git,
// apply, inventory) is a stand-in that records what each pass holds while it applies.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssignmentState, DesiredSet, type AssignmentStatus } from '../../proto/index.js';
import { createLogger } from '../../lib/log.js';
import type { InventoryStore } from '../apply/inventory-store.js';
import type { Applier, ApplyResult } from '../apply/ssa.js';
import type { KubeCluster } from '../kube/kube-client.js';
import { DEFAULT_SOURCE_LIMITS, type SourceLimits } from '../limits.js';
import type { RenderedObject } from '../render/plain/plain-renderer.js';
import type { GitSource } from '../sources/git/git-source.js';
import type { TenantOnboarding } from '../tenants/tenant-onboarding.js';
import { AssignmentReconciler } from './assignment.reconciler.js';

const KiB = 1024;
const ASSIGNMENTS = ['a1', 'a2', 'a3', 'a4'];

/** A repository whose path `app` holds `files` ConfigMaps of about `bytes` each. */
function writeRepo(root: string, files: number, bytes: number): void {
  mkdirSync(join(root, 'app'), { recursive: true });
  for (let f = 0; f < files; f++) {
    let text = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${f}\ndata:\n`;
    for (let k = 0; text.length < bytes; k++) text += `  key-${k}: "${'v'.repeat(40)}"\n`;
    writeFileSync(join(root, 'app', `cm-${f}.yaml`), text);
  }
}

const jsonBytes = (objects: RenderedObject[]) =>
  objects.reduce((n, o) => n + JSON.stringify(o.object).length, 0);

/** Four assignments reconciled at once (the agent's default concurrency) over `repo`. */
async function reconcileFour(repo: string, limits: SourceLimits) {
  const tenant = {
    name: 'team-a',
    namespaces: ['team-a'],
    serviceAccount: 'gitfleet-reconciler',
    clusterRole: 'admin',
  };
  const desired = DesiredSet.fromPartial({
    cluster: 'c1',
    generation: 1,
    tenants: [tenant],
    assignments: ASSIGNMENTS.map((name) => ({
      tenant: 'team-a',
      name,
      path: 'app',
      source: { type: 'git', url: 'https://git.example/apps.git', revision: 'main@sha1:abc' },
    })),
  });
  let holding = 0;
  let peakHolding = 0;
  let applying = 0;
  let peakApplying = 0;
  const applied: string[] = [];
  const applier = {
    async apply(_client: unknown, objects: RenderedObject[]): Promise<ApplyResult> {
      const bytes = jsonBytes(objects);
      holding += bytes;
      peakHolding = Math.max(peakHolding, holding);
      peakApplying = Math.max(peakApplying, ++applying);
      // an apply takes a while: time for the other passes to render if the budget lets them
      await new Promise((r) => setTimeout(r, 300));
      applying--;
      holding -= bytes;
      applied.push(objects[0].object.metadata.labels!['gitfleet.dev/assignment']);
      return { changes: [], failures: [], drifted: [] };
    },
  };
  const client = {};
  const kube = {
    impersonate: () => client,
    discovery: { scopeOf: async () => 'Namespaced' },
  } as unknown as KubeCluster;
  const reconciler = new AssignmentReconciler({
    cluster: 'c1',
    kube,
    inventories: { get: async () => undefined, save: async () => {} } as unknown as InventoryStore,
    git: {
      fetch: async () => ({ dir: repo, commit: 'abc', fetched: false, release: () => {} }),
    } as unknown as GitSource,
    applier: applier as unknown as Applier,
    tenants: { ensure: async () => {} } as unknown as TenantOnboarding,
    desired: () => desired,
    log: createLogger('test', 'silent'),
    limits,
  });
  const results = await Promise.all(ASSIGNMENTS.map((name) => reconciler.reconcile(`team-a/${name}`)));
  return {
    statuses: results.map((r) => r.status as AssignmentStatus),
    applied: applied.sort(),
    peakHolding,
    peakApplying,
    budget: reconciler.renderBudget,
  };
}

describe('render budget (maxBytesInFlight)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gitfleet-budget-'));
    writeRepo(join(dir, 'large'), 6, 100 * KiB); // ~600 KiB of manifests per revision
    writeRepo(join(dir, 'small'), 2, 4 * KiB);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const limits = { ...DEFAULT_SOURCE_LIMITS, maxRenderedBytes: 1024 * KiB, maxBytesInFlight: 1024 * KiB };

  it('four large revisions at once: never more than the budget held, and all four apply', async () => {
    const run = await reconcileFour(join(dir, 'large'), limits);
    expect(run.statuses.map((s) => s.state)).toEqual(
      ASSIGNMENTS.map(() => AssignmentState.ASSIGNMENT_STATE_READY),
    );
    expect(run.applied).toEqual(ASSIGNMENTS);
    expect(run.budget.peak).toBeLessThanOrEqual(limits.maxBytesInFlight);
    // one ~600 KiB revision fits in 1 MiB, two do not: they applied one after another
    expect(run.peakApplying).toBe(1);
    expect(run.peakHolding).toBeLessThan(limits.maxBytesInFlight);
    expect(run.budget.inUse).toBe(0);
  });

  it('with a budget as large as four revisions, they hold more than one revision at once', async () => {
    const run = await reconcileFour(join(dir, 'large'), { ...limits, maxBytesInFlight: 4 * 1024 * KiB });
    expect(run.applied).toEqual(ASSIGNMENTS);
    expect(run.peakApplying).toBeGreaterThan(1);
    expect(run.peakHolding).toBeGreaterThan(limits.maxBytesInFlight);
  });

  it('small revisions still reconcile side by side', async () => {
    const run = await reconcileFour(join(dir, 'small'), limits);
    expect(run.applied).toEqual(ASSIGNMENTS);
    expect(run.peakApplying).toBe(4);
  });

  it('defaults to maxRenderedBytes: one revision at its limit at a time', async () => {
    const { maxBytesInFlight: _, ...withoutBudget } = limits;
    const run = await reconcileFour(join(dir, 'large'), { ...withoutBudget, maxRenderedBytes: 1024 * KiB });
    expect(run.budget.capacity).toBe(1024 * KiB);
    expect(run.peakApplying).toBe(1);
  });

  it('gives the budget back when a pass fails (a revision over maxRenderedBytes)', async () => {
    const run = await reconcileFour(join(dir, 'large'), { ...limits, maxRenderedBytes: 200 * KiB });
    for (const s of run.statuses) {
      expect(s.message).toMatch(
        /cm-\d\.yaml \(document 1\): the revision renders to more bytes.*maxRenderedBytes/,
      );
    }
    expect(run.applied).toEqual([]);
    expect(run.budget.inUse).toBe(0);
  });
});
