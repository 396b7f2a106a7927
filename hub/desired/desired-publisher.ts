// Writes desired sets to the bus with bounded concurrency: at most `concurrency` operations in
// flight overall and one per cluster (so a newer generation never races an older one), the
// latest pending operation per cluster wins, and a failed operation is kept and retried with
// backoff (and again on every reconnect, by the projection's verify pass) — never lost.
import type { DesiredSet } from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import { hashDesiredSet } from './desired-set.js';

export interface PublishTarget {
  put(set: DesiredSet): Promise<void>;
  get(cluster: string): Promise<DesiredSet | undefined>;
  delete(cluster: string): Promise<void>;
}

/**
 * put: write the set. With `verify` (after start and reconnects), and always for the first write
 * of a cluster, first read what the bus holds: skip the write when it is already this generation
 * with this content, and report (onBehind) a bus that is ahead rather than go backwards.
 */
export type PublishOp = { kind: 'put'; set: DesiredSet; verify: boolean } | { kind: 'delete' };

export interface PublisherOptions {
  concurrency: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  /** The bus holds a generation at or above ours with other content: the caller must raise ours. */
  onBehind(cluster: string, busGeneration: number): void;
  /** Called after every successful put (generation just written). */
  onPublished?(cluster: string, generation: number): void;
  /**
   * May the publisher delete keys and overwrite content it did not write (bus-owner.ts)? Without
   * ownership it only creates keys the bus lacks and leaves every other key as it is. Default: yes.
   */
  isOwner?(): boolean;
  /** Not the owner: the bus holds other content for this cluster, left untouched. */
  onForeign?(cluster: string, busGeneration: number): void;
  /** An operation failed (e.g. the stream behind the bucket is gone). */
  onError?(err: unknown): void;
  log: Logger;
}

export class DesiredPublisher {
  private readonly pending = new Map<string, PublishOp>();
  private readonly inFlight = new Set<string>();
  private readonly failed = new Map<string, PublishOp>();
  /**
   * Clusters whose key this publisher has read or written since it started. The hub is the only
   * writer, so after that a plain put is safe; before it, what the bus holds is checked first so
   * that a hub with a younger store never moves a cluster's generation backwards.
   */
  private readonly known = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay: number;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly target: PublishTarget,
    private readonly opts: PublisherOptions,
  ) {
    this.retryDelay = opts.retryMinMs ?? 1000;
  }

  get stats(): { pending: number; inFlight: number; failed: number } {
    return { pending: this.pending.size, inFlight: this.inFlight.size, failed: this.failed.size };
  }

  enqueue(cluster: string, op: PublishOp): void {
    if (this.stopped) return;
    const prev = this.pending.get(cluster) ?? this.failed.get(cluster);
    this.failed.delete(cluster);
    // a verify never downgrades a real write that is still waiting
    if (op.kind === 'put' && op.verify && prev?.kind === 'put' && !prev.verify) op = { ...op, verify: false };
    this.pending.set(cluster, op);
    this.pump();
  }

  /** Resolves when nothing is pending or in flight (failed operations may be waiting for a retry). */
  whenIdle(): Promise<void> {
    if (this.pending.size === 0 && this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Moves every failed operation back to pending now (e.g. the bus is reachable again). */
  retryFailed(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const failed = [...this.failed];
    this.failed.clear();
    for (const [cluster, op] of failed) if (!this.pending.has(cluster)) this.pending.set(cluster, op);
    this.pump();
  }

  /**
   * Forgets which keys this publisher has seen: after the bucket was recreated every first write
   * checks the bus again.
   */
  forgetKnown(): void {
    this.known.clear();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.pending.clear();
    this.failed.clear();
    this.settleIdle();
  }

  private pump(): void {
    if (this.stopped) return;
    for (const [cluster, op] of this.pending) {
      if (this.inFlight.size >= this.opts.concurrency) break;
      if (this.inFlight.has(cluster)) continue;
      this.pending.delete(cluster);
      this.inFlight.add(cluster);
      void this.execute(cluster, op);
    }
    this.settleIdle();
  }

  private settleIdle(): void {
    if (this.pending.size === 0 && this.inFlight.size === 0 && this.idleWaiters.length) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async execute(cluster: string, op: PublishOp): Promise<void> {
    try {
      const owner = this.opts.isOwner?.() ?? true;
      if (op.kind === 'delete') {
        if (!owner) {
          this.opts.log.warn({ cluster }, 'not the bus owner: leaving the desired set of a deleted cluster');
          return;
        }
        await this.target.delete(cluster);
        this.known.add(cluster);
      } else {
        if (op.verify || !owner || !this.known.has(cluster)) {
          const current = await this.target.get(cluster);
          if (current && !owner) {
            // not ours to rewrite, not even to renumber the same content
            if (hashDesiredSet(current) !== hashDesiredSet(op.set)) {
              this.opts.onForeign?.(cluster, current.generation);
            }
            return;
          }
          if (current && current.generation >= op.set.generation) {
            if (
              current.generation === op.set.generation &&
              hashDesiredSet(current) === hashDesiredSet(op.set)
            ) {
              this.known.add(cluster);
              return; // the bus already has exactly this
            }
            this.opts.onBehind(cluster, current.generation);
            return;
          }
        }
        await this.target.put({ ...op.set, publishedAtMs: Date.now() });
        this.known.add(cluster);
        this.opts.onPublished?.(cluster, op.set.generation);
      }
      this.retryDelay = this.opts.retryMinMs ?? 1000;
    } catch (err) {
      if (!this.stopped && !this.pending.has(cluster)) this.failed.set(cluster, op);
      this.noteFailure(cluster, err);
      if (!this.stopped) this.opts.onError?.(err);
    } finally {
      this.inFlight.delete(cluster);
      this.pump();
    }
  }

  private noteFailure(cluster: string, err: unknown): void {
    if (this.stopped) return;
    if (this.retryTimer) return;
    this.opts.log.warn(
      { cluster, err: (err as Error).message, failed: this.failed.size, retryInMs: this.retryDelay },
      'publishing desired sets failed; will retry',
    );
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, this.opts.retryMaxMs ?? 30_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryFailed();
    }, delay);
    this.retryTimer.unref();
  }
}
