// GetStatus and WatchStatus: the status view (status-view.ts) over the store, and a stream of its
// changes. Changes are hinted by cluster name (a report arrived, a desired set changed); each
// watcher recomputes the hinted clusters, coalesced, and sends only rows that differ from what
// it sent before.
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { merge, Observable, Subject } from 'rxjs';
import type { AssignmentStatus, Cluster } from '../../proto/index.js';
import type { GetStatusResponse } from '../../proto/api.js';
import { withLiveness } from '../clusters/cluster-liveness.js';
import { HUB_CONFIG } from '../config/config.module.js';
import type { ResolvedHubConfig } from '../config/hub-config.js';
import { DesiredService } from '../desired/desired.service.js';
import { StatusIngestService } from './status-ingest.service.js';
import { buildStatusView, statusKey, type StatusFilter } from './status-view.js';
import { StatusRepository } from './status.repository.js';

/** Watchers recompute at most this often. */
export const WATCH_COALESCE_MS = 50;

export function normalizeFilter(f: Partial<StatusFilter> | null | undefined): StatusFilter {
  return { tenant: f?.tenant ?? '', cluster: f?.cluster ?? '', assignment: f?.assignment ?? '' };
}

@Injectable()
export class StatusService implements OnModuleDestroy {
  private readonly hints = new Subject<string[]>();
  private readonly hintSubscription;

  constructor(
    @Inject(StatusRepository) private readonly store: StatusRepository,
    @Inject(DesiredService) private readonly desired: DesiredService,
    @Inject(StatusIngestService) ingest: StatusIngestService,
    @Inject(HUB_CONFIG) private readonly config: Pick<ResolvedHubConfig, 'clusterOfflineAfterSeconds'>,
  ) {
    this.hintSubscription = merge(ingest.changed$, desired.changed$).subscribe((names) =>
      this.hints.next(names),
    );
  }

  /** The statuses and clusters matching the filter; `onlyClusters` narrows to those clusters. */
  async getStatus(filter: StatusFilter, onlyClusters?: readonly string[]): Promise<GetStatusResponse> {
    const clusterNames = filter.cluster ? [filter.cluster] : onlyClusters;
    const [snapshot, clusters, reported] = await Promise.all([
      this.desired.loadSnapshot(),
      this.store.listClusters(clusterNames),
      this.store.listStatuses(filter, onlyClusters),
    ]);
    const statuses = buildStatusView(clusters, snapshot, reported, filter, this.desired.unpublished());
    let matching: Cluster[] = clusters;
    if (!filter.cluster && (filter.tenant || filter.assignment)) {
      const used = new Set(statuses.map((s) => s.cluster));
      matching = clusters.filter((c) => used.has(c.name));
    }
    const now = Date.now();
    const offlineAfterMs = this.config.clusterOfflineAfterSeconds * 1000;
    return { statuses, clusters: matching.map((c) => withLiveness(c, now, offlineAfterMs)) };
  }

  /** The current matching statuses, then every change, until the subscriber unsubscribes. */
  watchStatus(filter: StatusFilter): Observable<AssignmentStatus> {
    return new Observable<AssignmentStatus>((subscriber) => {
      const sent = new Map<string, string>();
      let dirty: Set<string> | 'all' | undefined = 'all';
      let running = false;
      let timer: NodeJS.Timeout | undefined;
      let closed = false;

      const send = (rows: AssignmentStatus[]): void => {
        for (const row of rows) {
          const key = statusKey(row);
          const text = JSON.stringify(row);
          if (sent.get(key) === text) continue;
          sent.set(key, text);
          subscriber.next(row);
        }
      };

      const flush = async (): Promise<void> => {
        timer = undefined;
        if (running || closed || dirty === undefined) return;
        running = true;
        const scope = dirty;
        dirty = undefined;
        try {
          const { statuses } = await this.getStatus(filter, scope === 'all' ? undefined : [...scope]);
          if (!closed) send(statuses);
        } catch (err) {
          if (!closed) subscriber.error(err);
          closed = true;
        } finally {
          running = false;
          if (dirty !== undefined && !closed) schedule();
        }
      };

      const schedule = (): void => {
        if (!timer && !closed) timer = setTimeout(() => void flush(), WATCH_COALESCE_MS);
      };

      const hintSub = this.hints.subscribe({
        next: (names) => {
          const relevant = filter.cluster ? names.filter((n) => n === filter.cluster) : names;
          if (relevant.length === 0 || dirty === 'all') return;
          dirty ??= new Set();
          for (const n of relevant) dirty.add(n);
          if (!running) schedule();
        },
        complete: () => {
          closed = true;
          subscriber.complete();
        },
      });
      void flush();

      return () => {
        closed = true;
        hintSub.unsubscribe();
        if (timer) clearTimeout(timer);
      };
    });
  }

  onModuleDestroy(): void {
    this.hintSubscription.unsubscribe();
    this.hints.complete();
  }
}
