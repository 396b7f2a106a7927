// The running agent: holds the desired set in effect, feeds the work queue, finds assignments
// that went away (by their inventories), and owns the lifecycle of everything main.ts wired.
import { EventEmitter } from 'node:events';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  DesiredSet,
  inMaintenanceWindow,
  parseMaintenanceWindow,
  Reason,
  type AssignmentStatus,
  type MaintenanceWindow,
} from '../proto/index.js';
import { validateDesiredSet } from '../proto/contract/desired-set.validation.js';
import { ValidationError } from '../proto/contract/validation.js';
import { retry } from '../lib/backoff.js';
import type { Logger } from '../lib/log.js';
import type { DriftWatch } from './apply/drift-watch.js';
import { assignmentKey } from './apply/inventory.js';
import type { InventoryStore } from './apply/inventory-store.js';
import { DesiredSetWatcher } from './bus/desired-set-watcher.js';
import { ControlResponder, type ControlHandlers } from './control/control-responder.js';
import { HubConnection, type BusSettings } from './bus/hub-connection.js';
import { errorMessage } from './errors.js';
import type { KubeCluster } from './kube/kube-client.js';
import { WorkQueue, type Outcome, type RunCause } from './queue/work-queue.js';
import { dependentsToWake } from './reconciler/dependencies.js';
import { holdDecision, msToNextMinute } from './reconciler/maintenance-hold.js';
import type { AssignmentReconciler } from './reconciler/assignment.reconciler.js';
import { ensureAgentNamespace } from './state/agent-namespace.js';
import { UndecodableDesiredSetError, type DesiredSetStore } from './state/desired-set-store.js';
import type { Heartbeater } from './status/heartbeat.js';
import type { StatusPublisher } from './status/status-publisher.js';
import type { TenantOnboarding } from './tenants/tenant-onboarding.js';

export interface AgentEvents {
  /** After every reconcile pass of an assignment (and PROGRESSING when a pass starts new work). */
  status: [AssignmentStatus];
  /** A newer desired set took effect; `source` says where it came from. */
  desired: [DesiredSet, 'bus' | 'cluster'];
  /** The hub deleted this cluster's desired set. */
  deleted: [];
}

export interface AgentParts {
  cluster: string;
  namespace: string;
  bus: BusSettings;
  resyncMs: number;
  concurrency: number;
  log: Logger;
  kube: KubeCluster;
  inventories: InventoryStore;
  desiredStore: DesiredSetStore;
  tenants: TenantOnboarding;
  reconciler: (agent: Agent) => AssignmentReconciler;
  statusPublisher: StatusPublisher;
  heartbeat: Heartbeater;
  /** What the agent does for the hub's control requests (reconcile now, diff, tree); none: no answers. */
  control?: (agent: Agent) => ControlHandlers;
  /** The drift watches (stopped with the agent). */
  drift?: DriftWatch;
  /** The clock maintenance windows are read with (default Date.now). */
  now?: () => number;
}

export class Agent {
  readonly events = new EventEmitter<AgentEvents>();
  readonly queue: WorkQueue;
  private desired: DesiredSet;
  private hasDesired = false;
  private persisted = true;
  /** Why the newest desired set seen was refused (cleared by the next good one). */
  private refused: string | undefined;
  private readonly statuses = new Map<string, AssignmentStatus>();
  private readonly reconciler: AssignmentReconciler;
  private readonly hub: HubConnection;
  private watcher: DesiredSetWatcher | undefined;
  private control: ControlResponder | undefined;
  private readonly controlHandlers: ControlHandlers | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  /** The maintenance windows of the desired set in effect (none: new revisions go through at once). */
  private windows: MaintenanceWindow[] = [];
  /** Whether a window was open at the last check (a closed one opening releases what is held). */
  private windowOpen = true;
  private windowTimer: NodeJS.Timeout | undefined;
  private bootstrap: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private stopped: Promise<void> | undefined;

  constructor(private readonly p: AgentParts) {
    this.desired = DesiredSet.fromPartial({ cluster: p.cluster });
    this.reconciler = p.reconciler(this);
    this.controlHandlers = p.control?.(this);
    this.queue = new WorkQueue({
      concurrency: p.concurrency,
      resyncMs: p.resyncMs,
      process: (key, cause) => this.process(key, cause),
      onError: (key, err) => p.log.error({ key, err: errorMessage(err) }, 'reconcile crashed'),
    });
    this.hub = new HubConnection({
      bus: p.bus,
      cluster: p.cluster,
      name: `gitfleet-agent-${p.cluster}`,
      log: p.log,
      onConnect: (nc) => this.onConnect(nc),
      onReconnect: () => {
        this.p.heartbeat.beat();
        void this.p.statusPublisher.kick();
      },
    });
  }

  /** The desired set in effect (empty before any arrived). */
  current(): DesiredSet {
    return this.desired;
  }

  get observedGeneration(): number {
    return this.desired.generation;
  }

  /** Why the newest desired set received was refused, while no good one followed it. */
  get desiredSetError(): string | undefined {
    return this.refused;
  }

  /** Latest status per assignment. */
  latestStatuses(): AssignmentStatus[] {
    return [...this.statuses.values()];
  }

  /** The latest status of one assignment (the reconciler carries its conditions forward). */
  latestStatus(tenant: string, name: string): AssignmentStatus | undefined {
    return this.statuses.get(assignmentKey(tenant, name));
  }

  private now(): number {
    return (this.p.now ?? Date.now)();
  }

  /**
   * The status message when an assignment must stay at `appliedRevision` instead of going to
   * `desiredRevision` now (outside every maintenance window), else undefined.
   */
  holdMessage(desiredRevision: string, appliedRevision: string): string | undefined {
    const d = holdDecision({ windows: this.windows, nowMs: this.now(), appliedRevision, desiredRevision });
    return d.hold ? d.message : undefined;
  }

  /**
   * Takes the windows of a new desired set and, while it has any, checks at every minute
   * boundary (windows open on whole minutes) whether one opened: then every assignment is queued
   * and what was held goes through at once.
   */
  private setWindows(texts: readonly string[]): void {
    // validated with the set: parsing cannot fail here
    this.windows = texts.map((t, i) => parseMaintenanceWindow(t, `maintenance_windows[${i}]`));
    this.windowOpen = inMaintenanceWindow(this.windows, this.now());
    if (this.windowTimer) clearTimeout(this.windowTimer);
    this.windowTimer = undefined;
    if (this.windows.length > 0) this.scheduleWindowCheck();
  }

  private scheduleWindowCheck(): void {
    if (this.stopping.signal.aborted) return;
    this.windowTimer = setTimeout(() => {
      const open = inMaintenanceWindow(this.windows, this.now());
      if (open && !this.windowOpen) {
        this.p.log.info('a maintenance window opened: held revisions go through');
        for (const a of this.desired.assignments) this.queue.add(assignmentKey(a.tenant, a.name));
      }
      this.windowOpen = open;
      this.scheduleWindowCheck();
    }, msToNextMinute(this.now()));
    this.windowTimer.unref?.();
  }

  start(): void {
    this.bootstrap = this.runBootstrap();
    this.hub.start();
    this.resyncTimer = setInterval(() => this.resync(), this.p.resyncMs);
    this.resyncTimer.unref?.();
  }

  /** Ensures the agent namespace and loads the persisted desired set, retrying until it works. */
  private async runBootstrap(): Promise<void> {
    await retry(
      async () => {
        await this.ensureNamespace();
        const set = await this.loadPersisted();
        if (set && this.take(set, 'cluster')) {
          this.p.log.info(
            { generation: set.generation },
            'reconciling the desired set persisted in the cluster',
          );
        }
        await this.scanOrphans();
      },
      {
        firstDelayMs: 500,
        maxDelayMs: 30_000,
        signal: this.stopping.signal,
        onError: (err, retryInMs) =>
          this.p.log.warn(
            { err: errorMessage(err), retryInMs },
            'cannot read agent state from the cluster; retrying',
          ),
      },
    );
  }

  /** The desired set persisted in the cluster, unless it is unreadable or invalid (then: none). */
  private async loadPersisted(): Promise<DesiredSet | undefined> {
    try {
      const set = await this.p.desiredStore.load();
      if (set) validateDesiredSet(set, this.p.cluster);
      return set;
    } catch (err) {
      // anything else: the cluster could not be read, and the caller retries
      if (!(err instanceof ValidationError || err instanceof UndecodableDesiredSetError)) throw err;
      this.refuse(`the desired set persisted in the cluster is ignored: ${errorMessage(err)}`);
      return undefined;
    }
  }

  /**
   * A desired set was refused as a whole: the one in effect stays, nothing is pruned, and the
   * reason goes to the log (error) and to the hub with every heartbeat until a good set arrives.
   */
  private refuse(why: string): void {
    this.refused = why;
    this.p.log.error(
      { err: why, generation: this.desired.generation },
      'refused a desired set; the last good one stays in effect',
    );
    this.p.heartbeat.beat();
  }

  private ensureNamespace(): Promise<void> {
    return ensureAgentNamespace(this.p.kube.asAgent(), this.p.namespace);
  }

  private onConnect(nc: NatsConnection): void {
    this.watcher?.stop();
    this.watcher = new DesiredSetWatcher(nc, this.p.cluster, {
      initialGeneration: this.desired.generation,
      onDesired: (set) => this.take(set, 'bus'),
      onDeleted: () => this.onDeleted(),
      onInvalid: (err) => this.refuse(err.message),
      onError: (err) => this.p.log.debug({ err: err.message }, 'desired set watch'),
    });
    this.watcher.start();
    if (this.controlHandlers) {
      this.control?.stop();
      this.control = new ControlResponder(nc, {
        cluster: this.p.cluster,
        handlers: this.controlHandlers,
        log: this.p.log,
      });
      this.control.start();
    }
    this.p.statusPublisher.attach(jetstream(nc, { timeout: 5000 }));
    this.p.heartbeat.attach(nc);
  }

  /** Reads this cluster's desired-set key from the bus now (a newer set takes effect at once). */
  async refreshDesired(): Promise<void> {
    await this.watcher?.fetchOnce();
  }

  /** Makes a newer desired set the one in effect; false when it is not newer. */
  take(set: DesiredSet, source: 'bus' | 'cluster'): boolean {
    if (this.stopping.signal.aborted) return false;
    if (this.hasDesired && set.generation <= this.desired.generation) return false;
    try {
      validateDesiredSet(set, this.p.cluster);
    } catch (err) {
      this.refuse(`desired set (${source}) refused: ${errorMessage(err)}`);
      return false;
    }
    this.refused = undefined;
    const previous = new Map(this.desired.assignments.map((a) => [assignmentKey(a.tenant, a.name), a]));
    const before = new Set(previous.keys());
    this.desired = set;
    this.hasDesired = true;
    this.setWindows(set.maintenanceWindows);
    this.p.log.info(
      { generation: set.generation, assignments: set.assignments.length, source },
      'desired set',
    );
    this.events.emit('desired', set, source);
    if (source === 'bus') {
      this.persisted = false;
      void this.persist();
    }
    this.p.tenants.retain(set.tenants.map((t) => t.name));
    for (const a of set.assignments) {
      const key = assignmentKey(a.tenant, a.name);
      before.delete(key);
      // a new revision or a new retry interval starts the failure backoff over
      const was = previous.get(key);
      if (
        was?.source?.revision !== a.source?.revision ||
        was?.retryIntervalSeconds !== a.retryIntervalSeconds
      ) {
        this.queue.resetBackoff(key);
      }
      this.queue.add(key);
    }
    for (const key of before) this.queue.add(key); // went away: the reconciler prunes it
    return true;
  }

  private onDeleted(): void {
    this.p.log.warn("the hub deleted this cluster's desired set; nothing is desired any more");
    const before = this.desired.assignments.map((a) => assignmentKey(a.tenant, a.name));
    this.desired = DesiredSet.fromPartial({ cluster: this.p.cluster });
    this.hasDesired = true;
    this.setWindows([]);
    this.events.emit('deleted');
    this.persisted = false;
    void this.persist();
    for (const key of before) this.queue.add(key);
    void this.scanOrphans().catch(() => undefined);
  }

  private async persist(): Promise<void> {
    const set = this.desired;
    try {
      await this.p.desiredStore.save(set.assignments.length > 0 || set.generation > 0 ? set : undefined);
      if (this.desired === set) this.persisted = true;
    } catch (err) {
      this.p.log.warn({ err: errorMessage(err) }, 'could not persist the desired set; retrying on resync');
    }
  }

  /**
   * Queues assignments that have an inventory but are no longer desired. Only once a desired
   * set is known (from the bus or the cluster): an agent that knows nothing prunes nothing.
   */
  async scanOrphans(): Promise<void> {
    if (!this.hasDesired) return;
    const desired = new Set(this.desired.assignments.map((a) => assignmentKey(a.tenant, a.name)));
    for (const inv of await this.p.inventories.list()) {
      const key = assignmentKey(inv.tenant, inv.assignment);
      if (!desired.has(key)) this.queue.add(key);
    }
  }

  private resync(): void {
    if (!this.persisted) void this.persist();
    this.scanOrphans().catch((err) => this.p.log.debug({ err: errorMessage(err) }, 'orphan scan failed'));
    // assignments requeue themselves after each pass; this re-adds any that fell out
    for (const a of this.desired.assignments) {
      const key = assignmentKey(a.tenant, a.name);
      if (!this.queue.has(key)) this.queue.add(key);
    }
  }

  private async process(key: string, cause: RunCause): Promise<Outcome> {
    const { outcome, status } = await this.reconciler.reconcile(key, cause);
    if (outcome === 'retry') {
      // the backoff of this assignment (its retry interval as base), said in its status
      const a = this.findDesired(key);
      const baseMs = a?.retryIntervalSeconds ? a.retryIntervalSeconds * 1000 : undefined;
      const retryAfterMs = this.queue.retryDelayMs(key, baseMs);
      if (status)
        this.report({ ...status, nextRetryAtMs: (status.finishedAtMs || Date.now()) + retryAfterMs });
      return { retryAfterMs };
    }
    if (status) this.report(status);
    if (outcome === 'forget') this.statuses.delete(key);
    return outcome;
  }

  private findDesired(key: string) {
    return this.desired.assignments.find((a) => assignmentKey(a.tenant, a.name) === key);
  }

  /**
   * A pass starts work: say so, unless this revision and generation were reported already
   * (`always`: news within the pass, such as a fetch waiting for its jitter).
   */
  reportProgress(status: AssignmentStatus, always = false): void {
    const last = this.statuses.get(assignmentKey(status.tenant, status.assignment));
    if (
      !always &&
      last &&
      last.desiredRevision === status.desiredRevision &&
      last.observedGeneration === status.observedGeneration
    ) {
      return;
    }
    this.report(status);
  }

  report(status: AssignmentStatus): void {
    const key = assignmentKey(status.tenant, status.assignment);
    const before = this.statuses.get(key);
    if (status.reason !== Reason.Deleted) this.statuses.set(key, status);
    this.p.statusPublisher.report(status);
    this.events.emit('status', status);
    // dependents waiting for this assignment run now, not at their next resync
    for (const dependent of dependentsToWake(status, before, this.desired, (t, n) =>
      this.latestStatus(t, n),
    )) {
      this.queue.add(dependent);
    }
  }

  /** Idempotent: stops timers and the watch, waits for reconciles in flight, drains NATS. */
  stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = (async () => {
        this.stopping.abort();
        if (this.resyncTimer) clearInterval(this.resyncTimer);
        if (this.windowTimer) clearTimeout(this.windowTimer);
        this.reconciler.stop(); // fetches still waiting for their jitter do not start
        await this.bootstrap?.catch(() => undefined);
        this.control?.stop();
        await this.queue.stop();
        await this.p.drift?.stop();
        this.watcher?.stop();
        this.p.heartbeat.stop();
        await this.p.statusPublisher.stop();
        await this.hub.stop();
        this.p.kube.close();
        this.events.removeAllListeners();
      })();
    }
    return this.stopped;
  }
}
