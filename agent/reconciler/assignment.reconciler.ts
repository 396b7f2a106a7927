// The one reconciler: one assignment on this cluster, in Flux's fixed shape —
//   load (with its dependencies' wait) → (status is written once, at the end of the pass) →
//   deletion → suspend check → dependency wait → ordered steps (tenant, source, render, policy, apply, prune, inventory), stopping at the first
//   error.
// Steps never build status ad hoc: they fill the pass and throw a ReconcileError with a reason;
// finish() turns every ending of a pass (done, failed, suspended, deleted) into its status.
import {
  AssignmentState,
  Reason,
  shortRevision,
  statusConditions,
  type AssignmentStatus,
  type DesiredAssignment,
  type DesiredSet,
  type DriftedObject,
  type TenantIdentity,
} from '../../proto/index.js';
import { WeightedSemaphore } from '../../lib/limit.js';
import type { Logger } from '../../lib/log.js';
import { staleObjects, unionObjects, type Inventory } from '../apply/inventory.js';
import type { InventoryStore } from '../apply/inventory-store.js';
import { prune, type PruneResult } from '../apply/prune.js';
import type { Applier, ApplyFailure, ApplyResult, ChangeSetEntry } from '../apply/ssa.js';
import { driftApplyOptions, driftNote, reportedDrift } from '../apply/drift-status.js';
import { ReconcileError, errorMessage } from '../errors.js';
import { HealthWaits, reconcileHealth, type HealthOutcome } from '../health/health-wait.js';
import { bytesInFlight, DEFAULT_SOURCE_LIMITS, type SourceLimits } from '../limits.js';
import type { KubeCluster } from '../kube/kube-client.js';
import { refOf, type ObjectRef } from '../kube/objects.js';
import { checkTenantPolicy } from '../policy/tenant-policy.js';
import type { Outcome, RunCause } from '../queue/work-queue.js';
import { finalizeObjects, type RenderedObject } from '../render/plain/plain-renderer.js';
import { DEFAULT_RENDER_TOOLS, planRender, type RenderTools } from '../render/renderer.js';
import { decryptRender } from '../render/sops/sops-decryptor.js';
import { substituteObjects } from '../render/substitute.js';
import { dependencyWait, type DependencyWait } from './dependencies.js';
import type { FetchJitter } from '../sources/fetch-jitter.js';
import type { Checkout, Source } from '../sources/source.js';
import { tenantUser, type TenantOnboarding } from '../tenants/tenant-onboarding.js';

export interface ReconcileResult {
  outcome: Outcome;
  /** The pass's status; undefined when there was nothing to report. */
  status?: AssignmentStatus;
}

export interface AssignmentReconcilerDeps {
  cluster: string;
  kube: KubeCluster;
  inventories: InventoryStore;
  git: Source;
  /** OCI artifacts (SourceRef.type "oci"); an agent without one refuses them. */
  oci?: Source;
  applier: Applier;
  tenants: TenantOnboarding;
  /** The desired set in effect now. */
  desired(): DesiredSet;
  /**
   * Called with a PROGRESSING status when a pass starts work on a new revision (`always`: news
   * within the pass that is reported even when the revision's progress was, e.g. a fetch's jitter).
   */
  onProgress?(status: AssignmentStatus, always?: boolean): void;
  /** The assignment's last reported status: its conditions keep their transition times. */
  previous?(tenant: string, name: string): AssignmentStatus | undefined;
  log: Logger;
  pruneConcurrency?: number;
  /** Bounds on what one revision may hold (default DEFAULT_SOURCE_LIMITS). */
  limits?: SourceLimits;
  /** The pinned kubectl and helm of the Kustomize and Helm renderers (default: on PATH). */
  renderTools?: RenderTools;
  /**
   * Maintenance windows: the status message when a pass must not take the assignment from
   * `appliedRevision` to `desiredRevision` now (no window is open), else undefined.
   */
  hold?(desiredRevision: string, appliedRevision: string): string | undefined;
  /** Spreads the fetches of revisions not in the cache (--fetch-jitter); none: fetch at once. */
  fetchJitter?: FetchJitter;
  now?: () => number;
}

/** Everything one pass knows: loaded first, then filled in by the steps. */
interface Pass {
  tenantName: string;
  name: string;
  generation: number;
  startedAtMs: number;
  desired?: DesiredAssignment;
  tenant?: TenantIdentity;
  /** Dependencies not Ready on this cluster yet: the pass applies nothing and says what it waits for. */
  waiting?: DependencyWait;
  /** Every tenant of the desired set (a namespace claimed by two is refused). */
  peers: TenantIdentity[];
  inventory?: Inventory;
  checkout?: Checkout;
  objects?: RenderedObject[];
  /** What the render has to say in a Ready status (skipped files, dropped test hooks). */
  renderNotes: string[];
  refs?: ObjectRef[];
  changes: ChangeSetEntry[];
  /** Objects of the applied revision someone changed since, found by this pass. */
  drifted: DriftedObject[];
  /** The inventory as it stands after the pass. */
  nextInventory?: Inventory;
  /** The inventory of an assignment this pass removed from the cluster. */
  removed?: Inventory;
  /** Gives back the pass's share of the render budget (held from render to the end of the pass). */
  releaseBudget?: () => void;
  /** How long each step took, for logs. */
  stepMs: Record<string, number>;
  /** The health step's answer (undefined: the assignment does not wait for health). */
  health?: HealthOutcome;
  /** A poll while waiting for health: only the health step ran (see recheckHealthOnly). */
  healthOnly?: boolean;
  /**
   * The desired revision waits for a maintenance window (its message says so). The pass works on
   * what is applied: `desired` is then the assignment as it was applied, when this agent knows it.
   */
  held?: { revision: string; message: string; reapplied: boolean };
}

/** What preview() hands over: the rendered desired revision of one assignment. */
export interface PreviewPass {
  desired: DesiredAssignment;
  tenant: TenantIdentity;
  objects: RenderedObject[];
  inventory?: Inventory;
}

/** The steps a preview runs: everything before the first write. */
const PREVIEW_STEPS: ReadonlySet<string> = new Set(['source', 'render', 'policy']);

/** The step a poll while waiting for health runs. */
const HEALTH_STEPS: ReadonlySet<string> = new Set(['health']);

export function splitKey(key: string): { tenant: string; name: string } {
  const i = key.indexOf('/');
  return { tenant: key.slice(0, i), name: key.slice(i + 1) };
}

export function countChanges(changes: readonly ChangeSetEntry[]): {
  created: number;
  configured: number;
  unchanged: number;
  deleted: number;
} {
  const c = { created: 0, configured: 0, unchanged: 0, deleted: 0 };
  for (const e of changes) if (e.action in c) c[e.action as keyof typeof c]++;
  return c;
}

function failuresMessage(failures: readonly ApplyFailure[]): string {
  const shown = failures.slice(0, 3).map((f) => f.message);
  const more = failures.length > 3 ? `; and ${failures.length - 3} more failed` : '';
  return shown.join('; ') + more;
}

export class AssignmentReconciler {
  private readonly steps: ReadonlyArray<{ name: string; reason: Reason; run: (p: Pass) => Promise<void> }> = [
    { name: 'tenant', reason: Reason.TenantSetupFailed, run: (p) => this.reconcileTenant(p) },
    { name: 'source', reason: Reason.ArtifactFailed, run: (p) => this.reconcileSource(p) },
    { name: 'render', reason: Reason.BuildFailed, run: (p) => this.reconcileRender(p) },
    { name: 'policy', reason: Reason.PolicyViolation, run: (p) => this.reconcilePolicy(p) },
    { name: 'apply', reason: Reason.ApplyFailed, run: (p) => this.reconcileApply(p) },
    { name: 'prune', reason: Reason.PruneFailed, run: (p) => this.reconcilePrune(p) },
    { name: 'inventory', reason: Reason.InventoryFailed, run: (p) => this.reconcileInventory(p) },
    { name: 'health', reason: Reason.HealthCheckFailed, run: (p) => this.reconcileHealth(p) },
  ];

  /** When each assignment began waiting for its revision's objects to be healthy. */
  private readonly healthWaits = new HealthWaits();

  /**
   * Each assignment as this agent last applied it (the revision in its inventory, with the path,
   * renderer and options it was applied with): what a pass re-applies while a new revision is held.
   */
  private readonly applied = new Map<string, DesiredAssignment>();

  /**
   * Bytes of manifests all passes in flight hold together (limits.maxBytesInFlight): a pass takes
   * its revision's manifest bytes before reading them and keeps them until its objects are applied
   * and dropped, so concurrent large revisions queue here instead of multiplying the agent's memory.
   */
  readonly renderBudget: WeightedSemaphore;

  constructor(private readonly deps: AssignmentReconcilerDeps) {
    this.renderBudget = new WeightedSemaphore(bytesInFlight(deps.limits ?? DEFAULT_SOURCE_LIMITS));
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  async reconcile(key: string, cause: RunCause = { poll: false }): Promise<ReconcileResult> {
    const pass = this.load(key);
    const log = this.deps.log.child({ tenant: pass.tenantName, assignment: pass.name });
    try {
      pass.inventory = await this.readInventory(pass);
      if (!pass.desired) {
        if (!pass.inventory) return { outcome: 'forget' }; // never applied here: nothing to report
        await this.reconcileDelete(pass, log);
      } else if (!pass.desired.suspend && this.holdFor(pass)) {
        await this.reconcileHeld(pass, key, cause);
      } else if (!pass.desired.suspend && !pass.waiting && cause.poll && this.appliedAsDesired(pass)) {
        await this.recheckHealthOnly(pass);
      } else if (!pass.desired.suspend && !pass.waiting) {
        if (pass.desired.source?.revision !== pass.inventory?.revision) {
          this.deps.onProgress?.(
            this.status(
              pass,
              AssignmentState.ASSIGNMENT_STATE_PROGRESSING,
              Reason.Progressing,
              `applying revision ${shortRevision(pass.desired.source?.revision ?? '')}`,
            ),
          );
        }
        await this.runSteps(pass);
      }
      return this.finish(pass, log);
    } catch (err) {
      return this.finish(pass, log, err as ReconcileError);
    } finally {
      pass.releaseBudget?.();
      pass.checkout?.release();
    }
  }

  /**
   * Renders an assignment's desired revision as a pass does (source, render, SOPS, substitution,
   * policy) and hands the result to `use` — for `gitfleet diff`. Never applies, prunes, writes an
   * inventory or reports status; the checkout and the render budget are held while `use` runs.
   */
  async preview<T>(key: string, use: (p: PreviewPass) => Promise<T>): Promise<T> {
    const pass = this.load(key);
    if (!pass.desired) throw new Error(`assignment ${key} is not desired on this cluster`);
    if (!pass.tenant) throw new Error(`tenant ${pass.tenantName} has no identity in the desired set`);
    try {
      pass.inventory = await this.readInventory(pass);
      await this.runSteps(pass, PREVIEW_STEPS);
      return await use({
        desired: pass.desired,
        tenant: pass.tenant,
        objects: pass.objects!,
        inventory: pass.inventory,
      });
    } finally {
      pass.releaseBudget?.();
      pass.checkout?.release();
    }
  }

  /** Ends the waits of fetches not started yet: the agent is stopping. */
  stop(): void {
    this.deps.fetchJitter?.stop();
  }

  /** Whether the desired revision waits for a maintenance window; records that in the pass. */
  private holdFor(p: Pass): boolean {
    const revision = p.desired?.source?.revision ?? '';
    const message = this.deps.hold?.(revision, p.inventory?.revision ?? '');
    if (message) p.held = { revision, message, reapplied: false };
    return p.held !== undefined;
  }

  /**
   * A pass while the desired revision is held: the revision in the inventory is reconciled as it
   * was applied (drift corrected, health re-read), nothing of the new one is fetched, rendered or
   * applied. Dependencies are not waited for: what runs was applied after them already. Without
   * a record of how it was applied (the agent restarted since), its objects are left as they are.
   */
  private async reconcileHeld(p: Pass, key: string, cause: RunCause): Promise<void> {
    p.waiting = undefined;
    const applied = this.applied.get(key);
    if (!applied || !p.inventory || applied.source?.revision !== p.inventory.revision) return;
    p.desired = applied;
    p.held!.reapplied = true;
    if (cause.poll) await this.recheckHealthOnly(p);
    else await this.runSteps(p);
  }

  /** The inventory holds the desired revision: a pass applied all of it (the inventory step is after apply and prune). */
  private appliedAsDesired(p: Pass): boolean {
    const revision = p.desired?.source?.revision ?? '';
    return revision !== '' && p.inventory?.revision === revision && p.tenant !== undefined;
  }

  /**
   * A poll while waiting for health (RunCause.poll: the previous pass ended 'poll', which it does
   * only after applying the revision completely, and nothing — a new desired set, a drift event, a
   * control request — added the assignment since): the revision in the inventory is the desired
   * one, so only the health of its objects is read again. No source, render or apply; anything
   * else runs the full pass.
   */
  private async recheckHealthOnly(p: Pass): Promise<void> {
    p.healthOnly = true;
    p.refs = p.inventory!.objects;
    // not looked at again: what the last pass found not corrected is still what is known
    const previous = this.deps.previous?.(p.tenantName, p.name);
    p.drifted.push(...(previous?.drifted ?? []).filter((d) => !d.corrected));
    await this.runSteps(p, HEALTH_STEPS);
  }

  private async runSteps(pass: Pass, only?: ReadonlySet<string>): Promise<void> {
    for (const step of this.steps) {
      if (only && !only.has(step.name)) continue;
      const t = this.now();
      try {
        await step.run(pass);
        pass.stepMs[step.name] = this.now() - t;
      } catch (err) {
        pass.stepMs[step.name] = this.now() - t;
        if (err instanceof ReconcileError) throw err;
        throw new ReconcileError(step.reason, `${step.name}: ${errorMessage(err)}`, { cause: err });
      }
    }
  }

  private load(key: string): Pass {
    const { tenant, name } = splitKey(key);
    const set = this.deps.desired();
    const desired = set.assignments.find((a) => a.tenant === tenant && a.name === name);
    return {
      tenantName: tenant,
      name,
      generation: set.generation,
      startedAtMs: this.now(),
      desired,
      waiting: desired && dependencyWait(desired, set, (t, n) => this.deps.previous?.(t, n)),
      tenant: set.tenants.find((t) => t.name === tenant),
      peers: set.tenants,
      changes: [],
      drifted: [],
      renderNotes: [],
      stepMs: {},
    };
  }

  // ---- steps --------------------------------------------------------------------------------

  private async reconcileTenant(p: Pass): Promise<void> {
    if (!p.tenant) {
      throw new ReconcileError(
        Reason.TenantSetupFailed,
        `tenant ${p.tenantName} has no identity in the desired set`,
        {
          stalled: true,
        },
      );
    }
    await this.deps.tenants.ensure(p.tenant, p.peers);
  }

  private async reconcileSource(p: Pass): Promise<void> {
    const source = p.desired!.source;
    if (!source || !source.url) {
      throw new ReconcileError(Reason.ArtifactFailed, 'the assignment has no source', { stalled: true });
    }
    const kind = source.type === '' ? 'git' : source.type;
    const from = kind === 'git' ? this.deps.git : kind === 'oci' ? this.deps.oci : undefined;
    if (!from) {
      throw new ReconcileError(
        Reason.ArtifactFailed,
        `source type ${JSON.stringify(source.type)} is not supported by this agent`,
        {
          stalled: true,
        },
      );
    }
    if (this.deps.fetchJitter && !(await from.cached?.(source))) {
      // a revision not in the cache: the fetch reaches the network, spread over --fetch-jitter
      await this.deps.fetchJitter.wait(`${kind} ${source.url} ${source.revision}`, (leftMs) => {
        if (leftMs < 1000) return; // a moment: not worth a status
        this.deps.onProgress?.(
          this.status(
            p,
            AssignmentState.ASSIGNMENT_STATE_PROGRESSING,
            Reason.Progressing,
            `fetching revision ${shortRevision(source.revision)} in ${(leftMs / 1000).toFixed(1)}s (--fetch-jitter spreads the fetches of a new revision over time)`,
          ),
          true,
        );
      });
    }
    p.checkout = await from.fetch(source);
  }

  private async reconcileRender(p: Pass): Promise<void> {
    const a = p.desired!;
    const limits = this.deps.limits ?? DEFAULT_SOURCE_LIMITS;
    const namespace = a.targetNamespace || p.tenant!.namespaces[0];
    const plan = await planRender({
      root: p.checkout!.dir,
      path: a.path,
      renderer: a.renderer,
      assignment: a.name,
      helm: a.helm,
      namespace,
      limits,
      tools: this.deps.renderTools ?? DEFAULT_RENDER_TOOLS,
    });
    // what parsing will hold is about the input's size; more is refused at maxRenderedBytes
    let held = 0;
    const weigh = async (bytes: number) => {
      const weight = Math.min(bytes, limits.maxRenderedBytes);
      if (this.renderBudget.inUse + weight > this.renderBudget.capacity) {
        this.deps.log.debug(
          { tenant: a.tenant, assignment: a.name, bytes: weight, inFlight: this.renderBudget.inUse },
          'waiting for room in the render budget (maxBytesInFlight)',
        );
      }
      p.releaseBudget = await this.renderBudget.acquire(weight);
      held = weight;
    };
    await weigh(plan.bytes);
    const output = await plan.run(async (outputBytes) => {
      // a tool's output can outweigh its input: give the share back and wait for the output's
      // (never holding one share while waiting for another, which could deadlock two passes)
      if (Math.min(outputBytes, limits.maxRenderedBytes) <= held) return;
      p.releaseBudget?.();
      await weigh(outputBytes);
    });
    // SOPS: decrypted with the age keys of the assignment's Secret, read as the tenant; before
    // substitution (as Flux), which would otherwise rewrite ciphertext and break the MAC
    await decryptRender({
      objects: output.objects,
      secretName: a.decryptionSecret,
      namespace: p.tenant!.namespaces[0],
      tenant: this.deps.kube.impersonate(tenantUser(p.tenant!)),
    });
    // post-render substitution, before namespaces, labels and the duplicate check see the objects
    substituteObjects(output.objects, a.substitute, limits);
    p.objects = await finalizeObjects(
      output.objects,
      {
        targetNamespace: namespace,
        tenant: a.tenant,
        assignment: a.name,
        scopeOf: (apiVersion, kind) => this.deps.kube.discovery.scopeOf(apiVersion, kind),
        limits,
      },
      true,
    );
    p.renderNotes = output.notes;
    p.refs = p.objects.map((o) => refOf(o.object));
  }

  /** Refuses the whole revision, before any API call, when it holds what the tenant may not apply. */
  private reconcilePolicy(p: Pass): Promise<void> {
    checkTenantPolicy(p.objects!, p.tenant!);
    return Promise.resolve();
  }

  private async reconcileApply(p: Pass): Promise<void> {
    const client = this.deps.kube.impersonate(tenantUser(p.tenant!));
    const result: ApplyResult = await this.deps.applier.apply(
      client,
      p.objects!,
      driftApplyOptions(p.desired!, p.inventory, this.now()),
    );
    p.changes.push(...result.changes);
    p.drifted.push(...result.drifted);
    if (result.failures.length > 0) {
      // objects that did apply stay; the inventory keeps old and new so that nothing leaks
      const applied = result.changes.map((c) => c.ref);
      p.nextInventory = this.inventory(
        p,
        p.inventory?.revision ?? '',
        unionObjects(p.inventory?.objects ?? [], applied),
      );
      await this.saveInventory(p);
      throw new ReconcileError(Reason.ApplyFailed, failuresMessage(result.failures));
    }
  }

  private async reconcilePrune(p: Pass): Promise<void> {
    if (!p.desired!.prune || !p.inventory) return;
    const stale = staleObjects(p.inventory.objects, p.refs!);
    if (stale.length === 0) return;
    await this.pruneAndRecord(p, tenantUser(p.tenant!), stale, p.refs!);
  }

  private async reconcileInventory(p: Pass): Promise<void> {
    p.nextInventory = this.inventory(p, p.desired!.source?.revision ?? '', p.refs!);
    await this.saveInventory(p);
    this.applied.set(`${p.tenantName}/${p.name}`, p.desired!);
  }

  /** With --wait or health checks: Ready only once the objects are healthy (health-wait.ts). */
  private async reconcileHealth(p: Pass): Promise<void> {
    p.health = await reconcileHealth({
      key: `${p.tenantName}/${p.name}`,
      revision: p.desired!.source?.revision ?? '',
      health: p.desired!.health,
      applied: p.refs!,
      client: this.deps.kube.impersonate(tenantUser(p.tenant!)),
      discovery: this.deps.kube.discovery,
      waits: this.healthWaits,
      nowMs: this.now(),
    });
  }

  // ---- deletion -----------------------------------------------------------------------------

  /** The assignment left the desired set: prune its objects if it pruned, then drop its inventory. */
  private async reconcileDelete(p: Pass, log: Logger): Promise<void> {
    const inv = p.inventory!;
    if (inv.prune && inv.objects.length > 0) {
      if (!inv.serviceAccount) {
        log.warn('inventory records no identity to prune with; leaving its objects in place');
      } else {
        await this.pruneAndRecord(p, inv.serviceAccount, inv.objects, []);
      }
    }
    try {
      await this.deps.inventories.delete(inv.tenant, inv.assignment);
    } catch (err) {
      throw new ReconcileError(Reason.InventoryFailed, `delete inventory: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    this.applied.delete(`${p.tenantName}/${p.name}`);
    p.removed = inv;
    p.inventory = undefined;
    p.nextInventory = undefined;
  }

  // ---- helpers ------------------------------------------------------------------------------

  private inventory(p: Pass, revision: string, objects: ObjectRef[]): Inventory {
    return {
      tenant: p.tenantName,
      assignment: p.name,
      revision,
      prune: p.desired?.prune ?? p.inventory?.prune ?? false,
      serviceAccount: p.tenant ? tenantUser(p.tenant) : (p.inventory?.serviceAccount ?? ''),
      objects,
    };
  }

  private async readInventory(p: Pass): Promise<Inventory | undefined> {
    try {
      return await this.deps.inventories.get(p.tenantName, p.name);
    } catch (err) {
      throw new ReconcileError(Reason.InventoryFailed, `read inventory: ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }

  private async saveInventory(p: Pass): Promise<void> {
    try {
      await this.deps.inventories.save(p.nextInventory!, p.inventory);
    } catch (err) {
      throw new ReconcileError(Reason.InventoryFailed, `save inventory: ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }

  /**
   * Prunes `refs` as `identity` (the prune step and deletion) and records what was deleted into
   * the pass. Objects that could not be deleted stay in the inventory, with `keep`, so a later
   * pass retries them; then the pass fails with PruneFailed.
   */
  private async pruneAndRecord(
    p: Pass,
    identity: string,
    refs: readonly ObjectRef[],
    keep: readonly ObjectRef[],
  ): Promise<void> {
    const client = this.deps.kube.impersonate(identity);
    const result: PruneResult = await prune(
      client,
      refs,
      { tenant: p.tenantName, assignment: p.name },
      { concurrency: this.deps.pruneConcurrency },
    );
    p.changes.push(...result.changes.filter((c) => c.action === 'deleted'));
    if (result.failures.length === 0) return;
    const left = unionObjects(
      result.failures.map((f) => f.ref),
      keep,
    );
    // the identity that pruned is the one the inventory records to prune the rest with
    p.nextInventory = { ...this.inventory(p, p.inventory?.revision ?? '', left), serviceAccount: identity };
    let message = failuresMessage(result.failures);
    try {
      await this.saveInventory(p);
    } catch (err) {
      // the old inventory still lists every object: nothing leaks, the next pass retries
      message += `; ${errorMessage(err)}`;
    }
    throw new ReconcileError(Reason.PruneFailed, message);
  }

  /** The status of the pass, however it ended: the only place that decides one. */
  private finish(p: Pass, log: Logger, err?: ReconcileError | Error): ReconcileResult {
    if (err) {
      const reason = err instanceof ReconcileError ? err.reason : Reason.ApplyFailed;
      const stalled = err instanceof ReconcileError && err.stalled;
      log.warn({ reason, err: err.message }, 'reconcile failed');
      if (err instanceof ReconcileError && err.opts.notReady)
        p.health = { pending: false, notReady: err.opts.notReady, summary: '' };
      const message = p.held ? `${err.message}; ${p.held.message}` : err.message;
      return {
        outcome: stalled ? 'stalled' : 'retry',
        status: this.status(p, AssignmentState.ASSIGNMENT_STATE_FAILED, reason, message, stalled),
      };
    }
    if (!p.desired || p.desired.suspend) this.healthWaits.end(`${p.tenantName}/${p.name}`);
    if (p.removed) {
      const inv = p.removed;
      const deleted = countChanges(p.changes).deleted;
      const message = inv.prune
        ? `assignment removed from this cluster; ${deleted} object(s) deleted`
        : `assignment removed from this cluster; prune is off, ${inv.objects.length} object(s) left in place`;
      log.info({ deleted }, 'assignment removed');
      return {
        outcome: 'forget',
        status: this.status(p, AssignmentState.ASSIGNMENT_STATE_UNSPECIFIED, Reason.Deleted, message),
      };
    }
    if (p.desired?.suspend) {
      return {
        outcome: 'ok',
        status: this.status(
          p,
          AssignmentState.ASSIGNMENT_STATE_SUSPENDED,
          Reason.Suspended,
          'suspended: nothing is applied or pruned',
        ),
      };
    }
    if (p.held && !p.held.reapplied) return this.finishHeld(p);
    if (p.waiting) {
      // nothing applied: Pending until the dependencies are Ready (the agent wakes this pass when
      // they change); a cycle cannot end by waiting, so it fails until the hub's records change
      const { cycle, message } = p.waiting;
      log.debug({ waitingFor: p.waiting.waitingFor }, 'waiting for dependencies');
      return {
        outcome: cycle ? 'stalled' : 'ok',
        status: this.status(
          p,
          cycle ? AssignmentState.ASSIGNMENT_STATE_FAILED : AssignmentState.ASSIGNMENT_STATE_PENDING,
          Reason.DependencyNotReady,
          message,
          cycle,
        ),
      };
    }
    const c = countChanges(p.changes);
    const revision = shortRevision(p.desired?.source?.revision ?? '');
    const message = [
      ...(p.held ? [p.held.message] : []),
      p.healthOnly
        ? `applied revision ${revision} (health re-checked, nothing re-applied)`
        : `applied revision ${revision}: ${c.created} created, ${c.configured} configured, ${c.unchanged} unchanged, ${c.deleted} deleted`,
      ...(p.health ? [p.health.summary] : []),
      ...p.renderNotes,
      ...driftNote(p.drifted),
    ].join('; ');
    if (p.health?.pending) {
      log.debug({ revision, notReady: p.health.notReady.length }, 'waiting for health');
      return {
        outcome: 'poll',
        status: this.status(
          p,
          AssignmentState.ASSIGNMENT_STATE_PROGRESSING,
          Reason.HealthCheckPending,
          message,
        ),
      };
    }
    if (c.created + c.configured + c.deleted > 0) log.info({ revision, ...c, ms: p.stepMs }, 'applied');
    else log.debug({ revision, ...c, ms: p.stepMs }, 'no changes');
    return {
      outcome: 'ok',
      status: this.status(
        p,
        AssignmentState.ASSIGNMENT_STATE_READY,
        p.held ? Reason.MaintenanceWindow : Reason.ReconciliationSucceeded,
        message,
      ),
    };
  }

  /**
   * A held pass that re-applied nothing: a new assignment (nothing of it here: Pending), or one
   * applied before this agent started (Ready if its last status here said so, else Pending: not
   * re-checked until the window opens).
   */
  private finishHeld(p: Pass): ReconcileResult {
    const previous = this.deps.previous?.(p.tenantName, p.name);
    const ready =
      p.inventory !== undefined &&
      previous?.state === AssignmentState.ASSIGNMENT_STATE_READY &&
      previous.appliedRevision === p.inventory.revision;
    const message =
      p.inventory && !ready
        ? `${p.held!.message} (not re-checked until then: this agent did not apply it since it started)`
        : p.held!.message;
    return {
      outcome: 'ok',
      status: this.status(
        p,
        ready ? AssignmentState.ASSIGNMENT_STATE_READY : AssignmentState.ASSIGNMENT_STATE_PENDING,
        Reason.MaintenanceWindow,
        message,
      ),
    };
  }

  private status(
    p: Pass,
    state: AssignmentState,
    reason: Reason,
    message: string,
    stalled = false,
  ): AssignmentStatus {
    const inv = p.nextInventory ?? p.inventory;
    const now = this.now();
    return {
      cluster: this.deps.cluster,
      tenant: p.tenantName,
      assignment: p.name,
      state,
      reason,
      message,
      // held: the revision asked for, while `desired` is the one applied
      desiredRevision: p.held?.revision ?? p.desired?.source?.revision ?? '',
      appliedRevision: inv?.revision ?? '',
      observedGeneration: p.generation,
      changes: countChanges(p.changes),
      objects: inv?.objects.length ?? 0,
      startedAtMs: p.startedAtMs,
      finishedAtMs: state === AssignmentState.ASSIGNMENT_STATE_PROGRESSING ? 0 : now,
      notReady: p.health?.notReady ?? [],
      pinned: false, // the hub knows pins (status view)
      conditions: statusConditions(
        { state, reason, message, observedGeneration: p.generation },
        {
          nowMs: now,
          stalled,
          previous: this.deps.previous?.(p.tenantName, p.name)?.conditions,
        },
      ),
      // the agent sets it when it schedules a retry (it owns the queue and its backoff)
      nextRetryAtMs: 0,
      waitingFor: p.waiting?.waitingFor ?? [],
      drifted: reportedDrift(p.drifted, this.deps.previous?.(p.tenantName, p.name), inv?.revision ?? ''),
    };
  }
}
