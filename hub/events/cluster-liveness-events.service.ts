// cluster.offline / cluster.online events: every few seconds, the clusters' state from their last
// heartbeat (clusterState, as `cluster list` shows it), compared with what this hub saw last time.
// Only transitions this hub sees are events: a cluster already Offline when the hub starts is not
// one, and a cluster's first heartbeat (Unknown → Online) is not "back online".
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Logger } from '../../lib/log.js';
import { CLUSTER_OFFLINE, CLUSTER_ONLINE, clusterState } from '../clusters/cluster-liveness.js';
import { HUB_CONFIG, HUB_LOGGER } from '../config/config.module.js';
import type { ResolvedHubConfig } from '../config/hub-config.js';
import type { HubDb } from '../store/database.js';
import { HUB_DB } from '../store/store.module.js';
import type { FleetEvent } from './fleet-event.js';
import { FleetEventsService } from './fleet-events.service.js';

/** How often the clusters' heartbeats are read: a fraction of the offline limit, 1–5 s. */
export function livenessCheckIntervalMs(offlineAfterSeconds: number): number {
  return Math.min(5000, Math.max(1000, (offlineAfterSeconds * 1000) / 3));
}

/**
 * The events of one check (pure): `last` is what the previous check saw (updated in place);
 * clusters no longer listed are forgotten.
 */
export function livenessTransitions(
  last: Map<string, string>,
  clusters: readonly { name: string; lastHeartbeatMs: number }[],
  nowMs: number,
  offlineAfterMs: number,
): FleetEvent[] {
  const events: FleetEvent[] = [];
  const seen = new Set<string>();
  for (const c of clusters) {
    seen.add(c.name);
    const state = clusterState(c.lastHeartbeatMs, nowMs, offlineAfterMs);
    const before = last.get(c.name);
    last.set(c.name, state);
    if (before === undefined || before === state) continue;
    if (state === CLUSTER_OFFLINE && before === CLUSTER_ONLINE) {
      const ago = Math.round((nowMs - c.lastHeartbeatMs) / 1000);
      events.push({
        kind: 'cluster.offline',
        cluster: c.name,
        severity: 'error',
        message: `cluster ${c.name} is offline: no heartbeat for ${ago}s`,
        atMs: nowMs,
      });
    } else if (state === CLUSTER_ONLINE && before === CLUSTER_OFFLINE) {
      events.push({
        kind: 'cluster.online',
        cluster: c.name,
        severity: 'info',
        message: `cluster ${c.name} is back online`,
        atMs: nowMs,
      });
    }
  }
  for (const name of [...last.keys()]) if (!seen.has(name)) last.delete(name);
  return events;
}

@Injectable()
export class ClusterLivenessEventsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: Logger;
  private readonly last = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private stopped = false;

  constructor(
    @Inject(HUB_DB) private readonly db: HubDb,
    @Inject(FleetEventsService) private readonly events: FleetEventsService,
    @Inject(HUB_CONFIG) private readonly config: Pick<ResolvedHubConfig, 'clusterOfflineAfterSeconds'>,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'cluster-liveness-events' });
  }

  onApplicationBootstrap(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.checking = this.check().finally(() => {
        this.checking = undefined;
        this.schedule();
      });
    }, livenessCheckIntervalMs(this.config.clusterOfflineAfterSeconds));
    this.timer.unref();
  }

  /** One check: reads every cluster's last heartbeat (one query) and emits the transitions. */
  async check(): Promise<void> {
    try {
      const rows = await this.db.selectFrom('clusters').select(['name', 'last_heartbeat_ms']).execute();
      const clusters = rows.map((r) => ({ name: r.name, lastHeartbeatMs: Number(r.last_heartbeat_ms ?? 0) }));
      const offlineAfterMs = this.config.clusterOfflineAfterSeconds * 1000;
      for (const e of livenessTransitions(this.last, clusters, Date.now(), offlineAfterMs)) {
        this.log.info({ cluster: e.cluster, kind: e.kind }, e.message);
        this.events.emit(e);
      }
    } catch (err) {
      if (!this.stopped) this.log.warn({ err: (err as Error).message }, 'cannot read cluster heartbeats');
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.checking;
  }
}
