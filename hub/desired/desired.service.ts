// The projection of desired sets: for each cluster, what it should run (desired-set.ts),
// versioned by a generation that grows only when the content changes, written to the bus by the
// publisher. Level-triggered: every change requests a projection of the clusters it may affect,
// and on start and on every (re)connection to NATS every cluster is projected and verified
// against what the bus holds.
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Subject, type Subscription } from 'rxjs';
import type { Logger } from '../../lib/log.js';
import { retry } from '../../lib/backoff.js';
import { deferred, type Deferred } from '../../lib/limit.js';
import { BusService, type BusConnection } from '../bus/bus.service.js';
import { HUB_CONFIG, HUB_LOGGER } from '../config/config.module.js';
import type { ResolvedHubConfig } from '../config/hub-config.js';
import { FailedPreconditionError, scoped } from '../common/errors.js';
import { BusOwnerService } from './bus-owner.service.js';
import { DesiredKvRepository } from './desired-kv.repository.js';
import { DesiredPublisher } from './desired-publisher.js';
import {
  buildSnapshot,
  computeDesiredSet,
  desiredSetSizer,
  desiredSetUpperBound,
  measureDesiredSet,
  type ComputedDesiredSet,
  type DesiredSnapshot,
} from './desired-set.js';
import { DesiredRepository, type GenerationUpdate } from './desired.repository.js';
import { chunks } from '../store/rows.js';
import { assignmentSelects, clusterGroups, type ClusterIdentity, type Selection } from './selector.js';
import { DESIRED_BUCKET, Reason, desiredSetLimit, kvStream, type Assignment } from '../../proto/index.js';

/** Bus writes in flight at once (measured: 10,000 puts to nats-server 2.9 in about a second). */
export const PUBLISH_CONCURRENCY = 256;

/** Clusters computed, persisted and queued per step of a projection. */
const PROJECTION_CHUNK = 1000;

interface ProjectionJob {
  all: boolean;
  names: Set<string>;
  /** Also every cluster one of these assignment specs selects. */
  selections: Selection[];
  verify: boolean;
  waiters: Deferred<void>[];
}

/** A cluster whose desired set the bus cannot carry: not published, its generation not advanced. */
export interface OversizedSet {
  /** Encoded bytes of the set that was not published. */
  size: number;
  /** Largest set the hub publishes (max_payload minus headroom). */
  limit: number;
  maxPayload: number;
}

/** "1,234,567 bytes" */
function bytes(n: number): string {
  return `${n.toLocaleString('en-US')} bytes`;
}

/** The message hub-made status rows and API errors use for an oversized set. */
export function oversizedMessage(cluster: string, o: OversizedSet): string {
  return (
    `the desired set of cluster ${JSON.stringify(cluster)} would be ${bytes(o.size)}, over the bus's limit of ` +
    `${bytes(o.limit)} (NATS max_payload ${bytes(o.maxPayload)}): not published; the cluster keeps its previous desired set. ` +
    'Move assignments to fewer clusters, or raise max_payload on the NATS servers'
  );
}

function isStreamMissing(err: unknown): boolean {
  const msg = (err as Error)?.message ?? '';
  return /stream not found|no responders|503/i.test(msg);
}

/** Every cluster, named clusters, or the clusters assignment specs select (old and new of a change). */
export type ProjectionScope = 'all' | readonly string[] | { selectedBy: readonly Selection[] };

@Injectable()
export class DesiredService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: Logger;
  private readonly publisher: DesiredPublisher;
  /** Names of clusters whose projection may have changed (desired set or pending assignments). */
  readonly changed$ = new Subject<string[]>();
  /** An assignment spec or a repo's revision changed (the rollout driver starts rollouts at once). */
  readonly inputsChanged$ = new Subject<void>();
  private next: ProjectionJob | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private subscription: Subscription | undefined;
  private readonly stopSignal = new AbortController();
  /** Clusters whose computed set is too large for the bus (kept out of the store and the bus). */
  private readonly oversized = new Map<string, OversizedSet>();
  private checkTimer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  /** Clusters whose key holds another store's desired set (not the owner): bus generation. */
  private readonly foreign = new Map<string, number>();

  constructor(
    @Inject(DesiredRepository) private readonly repo: DesiredRepository,
    @Inject(DesiredKvRepository) private readonly kv: DesiredKvRepository,
    @Inject(BusService) private readonly bus: BusService,
    @Inject(HUB_LOGGER) log: Logger,
    @Inject(BusOwnerService) private readonly owner: Pick<BusOwnerService, 'isOwner' | 'establish'>,
    @Inject(HUB_CONFIG) private readonly config: Pick<ResolvedHubConfig, 'busCheckIntervalSeconds'>,
  ) {
    this.log = log.child({ module: 'desired' });
    this.publisher = new DesiredPublisher(kv, {
      concurrency: PUBLISH_CONCURRENCY,
      log: this.log,
      onBehind: (cluster, busGeneration) => void this.continueAbove(cluster, busGeneration),
      onPublished: (cluster, generation) => {
        this.log.debug({ cluster, generation }, 'desired set published');
        if (this.foreign.delete(cluster)) this.changed$.next([cluster]);
      },
      isOwner: () => this.owner.isOwner,
      onForeign: (cluster, busGeneration) => {
        if (this.foreign.get(cluster) === busGeneration) return;
        this.foreign.set(cluster, busGeneration);
        this.log.error(
          { cluster, busGeneration },
          'not the bus owner: the bus holds another desired set for this cluster; left untouched (see --adopt-bus)',
        );
        this.changed$.next([cluster]);
      },
      // the stream behind the bucket may have been deleted: check now rather than at the next tick
      onError: (err) => {
        if (isStreamMissing(err)) this.scheduleBusCheck(0);
      },
    });
  }

  onApplicationBootstrap(): void {
    // Persist generations for whatever changed while the hub was down, even before NATS is up.
    void this.project('all');
    this.subscription = this.bus.connected$.subscribe((conn) => void this.onConnected(conn));
    this.scheduleBusCheck();
  }

  /** The clusters whose desired set is too large to publish right now. */
  get oversizedSets(): ReadonlyMap<string, OversizedSet> {
    return this.oversized;
  }

  /**
   * Clusters whose current desired set is not on the bus, and why (reason and message), for the
   * hub-made status rows: too large for the bus, or left alone because another store owns it.
   */
  unpublished(): Map<string, { reason: string; message: string }> {
    const out = new Map<string, { reason: string; message: string }>();
    for (const [cluster, busGeneration] of this.foreign) {
      out.set(cluster, {
        reason: Reason.BusNotOwned,
        message:
          `not published: the bus holds another hub store's desired set for cluster ${JSON.stringify(cluster)} ` +
          `(generation ${busGeneration}) and this hub's store does not own the bus; left untouched. ` +
          'Start the hub with --adopt-bus to take the bus over',
      });
    }
    for (const [cluster, o] of this.oversized) {
      out.set(cluster, { reason: Reason.DesiredSetTooLarge, message: oversizedMessage(cluster, o) });
    }
    return out;
  }

  private async onConnected(conn: BusConnection): Promise<void> {
    await retry(
      async () => {
        await this.kv.ensureBucket(conn);
        await this.owner.establish(conn, async () => (await this.kv.keys()).length);
        this.foreign.clear();
        this.publisher.retryFailed();
        await this.project('all', { verify: true });
      },
      {
        firstDelayMs: 500,
        maxDelayMs: 10_000,
        signal: this.stopSignal.signal,
        while: () => !this.stopped && !conn.nc.isClosed(),
        onError: (err, retryInMs) =>
          this.log.warn({ err: (err as Error).message, retryInMs }, 'cannot prepare the desired bucket'),
      },
    );
  }

  private scheduleBusCheck(delayMs = this.config.busCheckIntervalSeconds * 1000): void {
    if (this.stopped) return;
    if (this.checkTimer) {
      if (delayMs > 0) return;
      clearTimeout(this.checkTimer);
    }
    this.checkTimer = setTimeout(() => {
      this.checkTimer = undefined;
      this.checking ??= this.checkBus().finally(() => {
        this.checking = undefined;
        this.scheduleBusCheck();
      });
    }, delayMs);
    this.checkTimer.unref();
  }

  /**
   * Anyone allowed to manage JetStream may delete the bucket: recreate it and publish every set
   * again. Also re-reads the bus's owner (another hub may have adopted the bus).
   */
  private async checkBus(): Promise<void> {
    const conn = this.bus.current;
    if (!conn || !this.bus.isOnline || this.stopped) return;
    try {
      let recreated = false;
      try {
        await conn.jsm.streams.info(kvStream(DESIRED_BUCKET));
      } catch (err) {
        if (!/not found/i.test((err as Error).message)) throw err;
        this.log.warn({ bucket: DESIRED_BUCKET }, 'the desired-set bucket was deleted; recreating it');
        await this.kv.ensureBucket(conn);
        this.publisher.forgetKnown();
        recreated = true;
      }
      const wasOwner = this.owner.isOwner;
      await this.owner.establish(conn, async () => (await this.kv.keys()).length);
      if (recreated || wasOwner !== this.owner.isOwner) {
        this.foreign.clear();
        this.publisher.retryFailed();
        await this.project('all', { verify: true });
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'cannot check the desired-set bucket; retrying later');
    }
  }

  /**
   * Refuses an assignment change that would make a cluster's desired set larger than the bus can
   * carry (and larger than it is now). `current` is the spec it replaces, if any.
   */
  async assertFits(next: Assignment, current?: Assignment): Promise<void> {
    const snapshot = await this.repo.loadSnapshot();
    const others = snapshot.assignments.filter((a) => !(a.tenant === next.tenant && a.name === next.name));
    const after = buildSnapshot(
      [...snapshot.tenants.values()],
      [...snapshot.repos.values()],
      [...others, next],
      [...snapshot.groups],
      snapshot.rollouts,
    );
    const maxPayload = this.bus.maxPayload;
    const limit = desiredSetLimit(maxPayload);
    // the common case, without loading a cluster: even a set holding everything would fit
    if (desiredSetUpperBound(after) <= limit) return;
    // Clusters that run the same assignments have sets that differ only in the cluster's name:
    // encode one set per selection and adjust by the name's length (a name is at most 63 bytes,
    // so its length prefix is one byte), instead of encoding every cluster's set.
    const sizeAfter = desiredSetSizer(after);
    const sizeBefore = desiredSetSizer(snapshot);
    for (const cluster of await this.repo.loadClusters()) {
      if (!assignmentSelects(next, cluster, clusterGroups(cluster, after.groups))) continue;
      const size = sizeAfter(cluster);
      if (size <= limit) continue;
      const before = sizeBefore(cluster);
      if (current && size <= before) continue; // a change that does not grow it is fine
      throw new FailedPreconditionError(
        `assignment ${JSON.stringify(scoped(next.tenant, next.name))} would make the desired set of cluster ` +
          `${JSON.stringify(cluster.name)} ${bytes(size)}, over the bus's limit of ${bytes(limit)} ` +
          `(NATS max_payload ${bytes(maxPayload)}); it is ${bytes(before)} now. Select fewer clusters, or raise max_payload`,
      );
    }
  }

  /**
   * Refuses a change of a cluster's labels, vars or windows that would make its desired set larger
   * than the bus can carry (and larger than it is now). `current` is what it replaces.
   */
  async assertClusterFits(next: ClusterIdentity, current: ClusterIdentity): Promise<void> {
    const snapshot = await this.repo.loadSnapshot();
    const maxPayload = this.bus.maxPayload;
    const limit = desiredSetLimit(maxPayload);
    const size = measureDesiredSet(computeDesiredSet(next, snapshot).set).size;
    if (size <= limit) return;
    const before = measureDesiredSet(computeDesiredSet(current, snapshot).set).size;
    if (size <= before) return;
    throw new FailedPreconditionError(
      `this change would make the desired set of cluster ${JSON.stringify(next.name)} ${bytes(size)}, over the bus's ` +
        `limit of ${bytes(limit)} (NATS max_payload ${bytes(maxPayload)}); it is ${bytes(before)} now. ` +
        'Use fewer or smaller variables, or raise max_payload',
    );
  }

  /**
   * Recomputes the desired sets of the named clusters (or all), persists new generations and
   * queues what changed for publishing. Resolves once the store is updated; publishing goes on
   * in the background. Named clusters that no longer exist get their key deleted. `verify`
   * also checks every unchanged set against the bus (after start and reconnects).
   */
  project(scope: ProjectionScope, opts: { verify?: boolean } = {}): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const job = (this.next ??= { all: false, names: new Set(), selections: [], verify: false, waiters: [] });
    if (scope === 'all') job.all = true;
    else if ('selectedBy' in scope) job.selections.push(...scope.selectedBy);
    else for (const n of scope) job.names.add(n);
    job.verify ||= Boolean(opts.verify);
    const done = deferred<void>();
    job.waiters.push(done);
    this.running ??= this.drain();
    return done.promise;
  }

  /**
   * Projects only the clusters that any of these assignment specs selects — pass the old and the
   * new spec of a change — instead of the whole fleet.
   */
  projectSelectedBy(specs: readonly Selection[]): Promise<void> {
    this.inputsChanged$.next();
    return this.project({ selectedBy: specs });
  }

  /** Projects the clusters that run an assignment of this repo (its revision or error changed). */
  async projectRepo(tenant: string, repo: string): Promise<void> {
    const snapshot = await this.repo.loadSnapshot();
    return this.projectSelectedBy(snapshot.assignments.filter((a) => a.tenant === tenant && a.repo === repo));
  }

  /** Resolves when every queued projection ran and the publisher has nothing pending (tests). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
    await this.publisher.whenIdle();
  }

  get publishStats(): { pending: number; inFlight: number; failed: number } {
    return this.publisher.stats;
  }

  private async drain(): Promise<void> {
    try {
      while (this.next && !this.stopped) {
        const job = this.next;
        this.next = undefined;
        try {
          await this.run(job);
        } catch (err) {
          this.log.error({ err }, 'desired-set projection failed; retrying all clusters shortly');
          setTimeout(() => void this.project('all'), 5000).unref();
        } finally {
          for (const w of job.waiters) w.resolve();
        }
      }
    } finally {
      this.running = undefined;
      for (const w of this.next?.waiters ?? []) if (this.stopped) w.resolve();
    }
  }

  private async run(job: ProjectionJob): Promise<void> {
    // selections need every cluster's labels: one load of all, then only the selected ones
    const bySelection = !job.all && job.selections.length > 0;
    const names = job.all || bySelection ? undefined : [...job.names];
    if (names && names.length === 0) return;
    const [snapshot, loaded] = await Promise.all([this.repo.loadSnapshot(), this.repo.loadClusters(names)]);
    const clusters = bySelection
      ? loaded.filter((c) => {
          if (job.names.has(c.name)) return true;
          const inGroups = clusterGroups(c, snapshot.groups);
          return job.selections.some((sel) => assignmentSelects(sel, c, inGroups));
        })
      : loaded;
    const changed: string[] = [];
    const sample: string[] = [];
    let updated = 0;
    const maxPayload = this.bus.maxPayload;
    const limit = desiredSetLimit(maxPayload);
    // chunk by chunk: compute, persist, queue for publishing — the first clusters are on the bus
    // while the rest are still being computed
    for (const batch of chunks(clusters, PROJECTION_CHUNK)) {
      const updates: GenerationUpdate[] = [];
      const toPublish: Array<{ computed: ComputedDesiredSet; generation: number; verify: boolean }> = [];
      for (const cluster of batch) {
        const computed = computeDesiredSet(cluster, snapshot);
        // never claim what the bus cannot carry: no new generation, nothing queued, status says why
        const { size, hash } = measureDesiredSet(computed.set);
        if (size > limit) {
          const before = this.oversized.get(cluster.name);
          if (before?.size !== size || before.limit !== limit) {
            const o = { size, limit, maxPayload };
            this.oversized.set(cluster.name, o);
            this.log.error(
              { cluster: cluster.name, size, limit, maxPayload },
              oversizedMessage(cluster.name, o),
            );
          }
          changed.push(cluster.name);
          continue;
        }
        if (this.oversized.delete(cluster.name)) changed.push(cluster.name);
        if (hash !== cluster.desiredHash) {
          const generation = cluster.desiredGeneration + 1;
          updates.push({ name: cluster.name, generation, hash });
          toPublish.push({ computed, generation, verify: false });
          changed.push(cluster.name);
          if (sample.length < 5) sample.push(`${cluster.name}@${generation}`);
        } else {
          if (job.verify) toPublish.push({ computed, generation: cluster.desiredGeneration, verify: true });
          if (computed.unresolved.length > 0) changed.push(cluster.name);
        }
      }
      await this.repo.saveGenerations(updates);
      updated += updates.length;
      // While the bus is away nothing is queued: the verify pass that runs on every
      // (re)connection publishes whatever the store holds then.
      if (!this.kv.ready) continue;
      for (const p of toPublish) {
        const set = { ...p.computed.set, generation: p.generation };
        this.publisher.enqueue(set.cluster, { kind: 'put', set, verify: p.verify });
      }
    }
    const busReady = this.kv.ready;
    const existing = new Set(loaded.map((c) => c.name));
    const gone = job.all ? [] : [...job.names].filter((n) => !existing.has(n));
    if (job.all && job.verify && this.kv.ready) {
      try {
        for (const key of await this.kv.keys()) if (!existing.has(key)) gone.push(key);
      } catch (err) {
        this.log.warn(
          { err: (err as Error).message },
          'cannot list desired keys; stale keys stay until the next pass',
        );
      }
    }
    for (const name of gone) this.oversized.delete(name);
    if (busReady) for (const name of gone) this.publisher.enqueue(name, { kind: 'delete' });
    if (updated) this.log.info({ clusters: updated, sample }, 'desired sets changed');
    if (changed.length || gone.length) this.changed$.next([...changed, ...gone]);
  }

  private async continueAbove(cluster: string, busGeneration: number): Promise<void> {
    this.log.warn(
      { cluster, busGeneration },
      'the bus holds a newer desired set than the store; publishing above it',
    );
    try {
      await this.repo.raiseGeneration(cluster, busGeneration);
      await this.project([cluster]);
    } catch (err) {
      this.log.error({ err, cluster }, 'cannot raise the desired generation');
    }
  }

  /** The computation for one cluster from a snapshot (used by the status service). */
  compute(cluster: ClusterIdentity, snapshot: DesiredSnapshot): ComputedDesiredSet {
    return computeDesiredSet(cluster, snapshot);
  }

  loadSnapshot(): Promise<DesiredSnapshot> {
    return this.repo.loadSnapshot();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.checkTimer) clearTimeout(this.checkTimer);
    await this.checking;
    this.stopSignal.abort();
    this.subscription?.unsubscribe();
    this.publisher.stop();
    this.changed$.complete();
    this.inputsChanged$.complete();
    await this.running;
  }
}
