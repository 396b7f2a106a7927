// The hub's rollout driver: about once a second, and whenever agents report status, it loads every
// assignment with rollout options, its rollout and pins from the store, runs one pass of the plan
// (rollout-plan.ts) and stores what changed, then projects only the clusters whose pin changed.
// Everything it knows is in the store, so a restarted hub continues where it was.
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Subject, type Subscription } from 'rxjs';
import { Semaphore } from '../../lib/limit.js';
import type { Logger } from '../../lib/log.js';
import { shortRevision, type Assignment, type Rollout } from '../../proto/index.js';
import { CLUSTER_ONLINE, clusterState } from '../clusters/cluster-liveness.js';
import { HUB_CONFIG, HUB_LOGGER } from '../config/config.module.js';
import { FleetEventsService } from '../events/fleet-events.service.js';
import type { ResolvedHubConfig } from '../config/hub-config.js';
import { DesiredService } from '../desired/desired.service.js';
import { assignmentSelects, clusterGroups } from '../desired/selector.js';
import { StatusIngestService } from '../status/status-ingest.service.js';
import {
  ROLLOUT_PROGRESSING,
  planRollout,
  rolloutView,
  type RolloutClusterInput,
  type RolloutEventKind,
  type RolloutRecord,
} from './rollout-plan.js';
import { RolloutsRepository, rolloutKey } from './rollouts.repository.js';

/** How often the driver looks at every rollout (soak ends, offline clusters, the herd cap's next second). */
export const ROLLOUT_TICK_MS = 1000;

/** Least time between the starts of two passes. */
export const ROLLOUT_MIN_GAP_MS = 250;

export interface RolloutEvent {
  kind: RolloutEventKind;
  tenant: string;
  assignment: string;
  revision: string;
  message: string;
}

/** The host a source is fetched from: a URL's host, or the host of scp-like "user@host:path". */
export function sourceHost(url: string): string {
  try {
    const host = new URL(url).host;
    if (host) return host;
  } catch {
    // not a URL: scp-like git address
  }
  return /^(?:[^@/]+@)?([^:/]+):/.exec(url)?.[1] ?? url;
}

/** At most `cap` starts per host per second (0: no cap). */
export class HostStartCap {
  private readonly used = new Map<string, { second: number; count: number }>();

  constructor(private readonly cap: number) {}

  available(host: string, nowMs: number): number {
    if (this.cap <= 0) return Number.POSITIVE_INFINITY;
    const u = this.used.get(host);
    return u && u.second === Math.floor(nowMs / 1000) ? Math.max(0, this.cap - u.count) : this.cap;
  }

  take(host: string, nowMs: number, n: number): void {
    if (this.cap <= 0 || n <= 0) return;
    const second = Math.floor(nowMs / 1000);
    const u = this.used.get(host);
    if (u && u.second === second) u.count += n;
    else this.used.set(host, { second, count: n });
  }
}

/** What one rollout is computed from. */
export interface RolloutContext {
  assignment: Assignment;
  target: string;
  host: string;
  record: RolloutRecord | undefined;
  clusters: RolloutClusterInput[];
  pins: Map<string, string>;
}

@Injectable()
export class RolloutDriverService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: Logger;
  /** Rollout paused or finished: for alerts (the notifications part subscribes). */
  readonly events$ = new Subject<RolloutEvent>();
  /** One pass or API action at a time: each reads and writes the same rows. */
  private readonly exclusive = new Semaphore(1);
  private readonly cap: HostStartCap;
  private timer: NodeJS.Timeout | undefined;
  /** A pass at the moment the earliest soak under way ends, instead of at the next tick. */
  private soakTimer: { at: number; timer: NodeJS.Timeout } | undefined;
  private readonly subscriptions: Subscription[] = [];
  private queued = false;
  private lastPassAt = 0;
  private stopped = false;

  constructor(
    @Inject(RolloutsRepository) private readonly store: RolloutsRepository,
    @Inject(DesiredService) private readonly desired: DesiredService,
    @Inject(StatusIngestService) private readonly ingest: StatusIngestService,
    @Inject(HUB_CONFIG)
    private readonly config: Pick<ResolvedHubConfig, 'clusterOfflineAfterSeconds' | 'maxConcurrentFetch'>,
    @Inject(HUB_LOGGER) log: Logger,
    @Inject(FleetEventsService) private readonly fleetEvents: Pick<FleetEventsService, 'emit'>,
  ) {
    this.log = log.child({ module: 'rollouts' });
    this.cap = new HostStartCap(config.maxConcurrentFetch);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.kick(), ROLLOUT_TICK_MS);
    this.timer.unref();
    // status reports end stages; a new revision or spec starts or changes a rollout
    this.subscriptions.push(
      this.ingest.changed$.subscribe(() => this.kick()),
      this.desired.inputsChanged$.subscribe(() => this.kick()),
    );
    this.kick();
  }

  /** Runs a pass soon (one more at most while one runs). */
  kick(): void {
    if (this.stopped || this.queued) return;
    this.queued = true;
    // at most one pass per ROLLOUT_MIN_GAP_MS: a wave of status reports (one kick each) is read
    // in a few passes, not in one pass per report
    const wait = Math.max(0, this.lastPassAt + ROLLOUT_MIN_GAP_MS - Date.now());
    const start = () =>
      void this.exclusive
        .run(async () => {
          this.queued = false;
          this.lastPassAt = Date.now();
          await this.pass();
        })
        .catch((err: unknown) => this.log.error({ err }, 'rollout pass failed; retrying on the next tick'));
    if (wait === 0) start();
    else setTimeout(start, wait).unref();
  }

  /** Runs `fn` with no pass in between (API actions). */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.exclusive.run(fn);
  }

  /** Loads what the plan of the rollouts of these assignments (or all) needs. */
  async contexts(only?: { tenant: string; name: string }): Promise<RolloutContext[]> {
    const assignments = await this.store.rolloutAssignments(only?.tenant, only?.name);
    if (assignments.length === 0) return [];
    const [records, pins, repos, clusters, groups, statuses] = await Promise.all([
      this.store.records(),
      this.store.pins(),
      this.store.repos(),
      this.store.clusters(),
      this.store.groups(),
      this.store.statuses(assignments),
    ]);
    const inGroups = new Map(clusters.map((c) => [c.name, clusterGroups(c, groups)]));
    const nowMs = Date.now();
    const offlineAfterMs = this.config.clusterOfflineAfterSeconds * 1000;
    return assignments.map((a) => {
      const key = rolloutKey(a.tenant, a.name);
      const repo = repos.get(rolloutKey(a.tenant, a.repo));
      const reported = statuses.get(key);
      return {
        assignment: a,
        target: a.pinnedRevision || repo?.revision || '',
        host: sourceHost(repo?.url ?? ''),
        record: records.get(key),
        pins: pins.get(key) ?? new Map(),
        clusters: clusters
          .filter((c) => assignmentSelects(a, c, inGroups.get(c.name)))
          .map((c) => ({
            name: c.name,
            labels: c.labels,
            online: clusterState(c.lastHeartbeatMs, nowMs, offlineAfterMs) === CLUSTER_ONLINE,
            status: reported?.get(c.name),
          })),
      };
    });
  }

  /** One pass over every rollout (callers hold `exclusive`). */
  async pass(only?: { tenant: string; name: string }): Promise<void> {
    if (!only) await this.store.deleteWithoutOptions();
    const changed = new Set<string>();
    let soakEnds = Number.POSITIVE_INFINITY;
    for (const ctx of await this.contexts(only)) {
      const nowMs = Date.now();
      const plan = planRollout({
        tenant: ctx.assignment.tenant,
        assignment: ctx.assignment.name,
        options: ctx.assignment.rollout!,
        target: ctx.target,
        record: ctx.record,
        clusters: ctx.clusters,
        pins: ctx.pins,
        nowMs,
        startBudget: this.cap.available(ctx.host, nowMs),
      });
      this.cap.take(ctx.host, nowMs, plan.started);
      if (!plan.record) continue;
      if (plan.record.soakStartedAtMs && plan.record.state === ROLLOUT_PROGRESSING) {
        soakEnds = Math.min(
          soakEnds,
          plan.record.soakStartedAtMs + ctx.assignment.rollout!.soakSeconds * 1000,
        );
      }
      const recordChanged = JSON.stringify(plan.record) !== JSON.stringify(ctx.record);
      if (!recordChanged && plan.changed.length === 0 && plan.dropped.length === 0) continue;
      await this.store.save(
        plan.record,
        plan.changed.map((c) => [c, plan.pins.get(c)!] as const),
        plan.dropped,
        nowMs,
      );
      for (const c of plan.changed) changed.add(c);
      if (ctx.record?.revision !== plan.record.revision || ctx.record.state !== plan.record.state) {
        this.log.info(
          {
            assignment: rolloutKey(plan.record.tenant, plan.record.assignment),
            revision: plan.record.revision,
            previous: plan.record.previousRevision,
            state: plan.record.state,
            stage: plan.record.stage + 1,
            message: plan.record.message || undefined,
          },
          'rollout',
        );
      }
      if (plan.event) this.emit(plan.event.kind, plan.record, plan.event.message);
    }
    // only the clusters whose pin changed get a new desired set
    if (changed.size > 0) await this.desired.project([...changed]);
    if (Number.isFinite(soakEnds)) this.kickAt(soakEnds);
  }

  /** A pass at `atMs` (the end of a soak): a stage is done then, not up to a tick later. */
  private kickAt(atMs: number): void {
    if (this.stopped || (this.soakTimer && this.soakTimer.at <= atMs && this.soakTimer.at > Date.now()))
      return;
    if (this.soakTimer) clearTimeout(this.soakTimer.timer);
    const timer = setTimeout(
      () => {
        this.soakTimer = undefined;
        this.kick();
      },
      Math.max(0, atMs - Date.now()),
    );
    timer.unref();
    this.soakTimer = { at: atMs, timer };
  }

  emit(kind: RolloutEventKind, record: RolloutRecord, message: string): void {
    const event = {
      kind,
      tenant: record.tenant,
      assignment: record.assignment,
      revision: record.revision,
      message,
    };
    this.events$.next(event);
    // to alerts: a pause needs someone, a finish is news
    this.fleetEvents.emit({
      ...event,
      severity: kind === 'rollout.paused' ? 'error' : 'info',
      atMs: Date.now(),
    });
  }

  /** The rollout as `gitfleet rollout status` shows it, or undefined before it has a record. */
  view(ctx: RolloutContext): Rollout | undefined {
    if (!ctx.record) return undefined;
    return rolloutView(ctx.record, ctx.assignment.rollout!, ctx.clusters, ctx.pins);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.soakTimer) clearTimeout(this.soakTimer.timer);
    for (const s of this.subscriptions) s.unsubscribe();
    await this.exclusive.run(async () => undefined);
    this.events$.complete();
  }
}

/** "main@abc1234" or "(none)" for messages. */
export function shortOrNone(revision: string): string {
  return revision ? shortRevision(revision) : '(none)';
}
