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
import { HUB_LOGGER } from '../config/config.module.js';
import { DesiredKvRepository } from './desired-kv.repository.js';
import { DesiredPublisher } from './desired-publisher.js';
import {
  computeDesiredSet,
  hashDesiredSet,
  type ComputedDesiredSet,
  type DesiredSnapshot,
} from './desired-set.js';
import { DesiredRepository, type GenerationUpdate } from './desired.repository.js';
import { chunks } from '../store/rows.js';
import { assignmentSelects } from './selector.js';
import type { Assignment } from '../../proto/index.js';

/** Bus writes in flight at once (measured: 10,000 puts to nats-server 2.9 in about a second). */
export const PUBLISH_CONCURRENCY = 256;

/** Clusters computed, persisted and queued per step of a projection. */
const PROJECTION_CHUNK = 1000;

type Selection = Pick<Assignment, 'clusters' | 'selector'>;

interface ProjectionJob {
  all: boolean;
  names: Set<string>;
  /** Also every cluster one of these assignment specs selects. */
  selections: Selection[];
  verify: boolean;
  waiters: Deferred<void>[];
}

/** Every cluster, named clusters, or the clusters assignment specs select (old and new of a change). */
export type ProjectionScope = 'all' | readonly string[] | { selectedBy: readonly Selection[] };

@Injectable()
export class DesiredService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: Logger;
  private readonly publisher: DesiredPublisher;
  /** Names of clusters whose projection may have changed (desired set or pending assignments). */
  readonly changed$ = new Subject<string[]>();
  private next: ProjectionJob | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private subscription: Subscription | undefined;
  private readonly stopSignal = new AbortController();

  constructor(
    @Inject(DesiredRepository) private readonly repo: DesiredRepository,
    @Inject(DesiredKvRepository) private readonly kv: DesiredKvRepository,
    @Inject(BusService) private readonly bus: BusService,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'desired' });
    this.publisher = new DesiredPublisher(kv, {
      concurrency: PUBLISH_CONCURRENCY,
      log: this.log,
      onBehind: (cluster, busGeneration) => void this.continueAbove(cluster, busGeneration),
      onPublished: (cluster, generation) => this.log.debug({ cluster, generation }, 'desired set published'),
    });
  }

  onApplicationBootstrap(): void {
    // Persist generations for whatever changed while the hub was down, even before NATS is up.
    void this.project('all');
    this.subscription = this.bus.connected$.subscribe((conn) => void this.onConnected(conn));
  }

  private async onConnected(conn: BusConnection): Promise<void> {
    await retry(
      async () => {
        await this.kv.ensureBucket(conn);
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
      ? loaded.filter((c) => job.names.has(c.name) || job.selections.some((sel) => assignmentSelects(sel, c)))
      : loaded;
    const changed: string[] = [];
    const sample: string[] = [];
    let updated = 0;
    // chunk by chunk: compute, persist, queue for publishing — the first clusters are on the bus
    // while the rest are still being computed
    for (const batch of chunks(clusters, PROJECTION_CHUNK)) {
      const updates: GenerationUpdate[] = [];
      const toPublish: Array<{ computed: ComputedDesiredSet; generation: number; verify: boolean }> = [];
      for (const cluster of batch) {
        const computed = computeDesiredSet(cluster, snapshot);
        const hash = hashDesiredSet(computed.set);
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
  compute(
    cluster: { name: string; labels: Record<string, string> },
    snapshot: DesiredSnapshot,
  ): ComputedDesiredSet {
    return computeDesiredSet(cluster, snapshot);
  }

  loadSnapshot(): Promise<DesiredSnapshot> {
    return this.repo.loadSnapshot();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.stopSignal.abort();
    this.subscription?.unsubscribe();
    this.publisher.stop();
    this.changed$.complete();
    await this.running;
  }
}
