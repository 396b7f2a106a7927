// Watches one cluster's desired set in the hub's KV bucket without a JetStream consumer: a plain
// core subscription to the key's `$KV.<bucket>.<key>` subject (a KV put is an ordinary message
// on it) plus a direct get of the key on start and after every reconnect, so that nothing
// published while disconnected is missed. Values whose generation is not newer than the one
// held are ignored, which also settles any race between the get and the subscription.
//
// Cheap enough for 10,000 watchers on one connection (see ARCHITECTURE.md, scale notes): per
// watcher one subscription and no timers; direct gets of all watchers of a connection go through
// one shared pool with bounded concurrency, one retry timer and one status listener.
import {
  Empty,
  RequestError,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import {
  DESIRED_BUCKET,
  DesiredSet,
  desiredKey,
  desiredDirectGetSubject,
  desiredSubject,
} from '../../proto/index.js';
import { validateDesiredSet } from '../../proto/contract/desired-set.validation.js';

export interface DesiredSetWatcherOptions {
  /** A newer desired set arrived. */
  onDesired(set: DesiredSet): void;
  /** The key was deleted or purged (the cluster has nothing desired). */
  onDeleted?(): void;
  /** Something went wrong that the watcher will retry (bucket missing, timeouts, ...). */
  onError?(err: Error): void;
  /**
   * A value on the key was refused as a whole (undecodable, another cluster's, or a field the
   * hub would never have accepted); the set held before stays in effect.
   */
  onInvalid?(err: Error): void;
  /** Generation already held (e.g. loaded from the cluster); older or equal values are ignored. */
  initialGeneration?: number;
  /** Timeout of one direct get (default 5 s). */
  requestTimeoutMs?: number;
}

type FetchResult = 'ok' | 'retry';

export class DesiredSetWatcher {
  readonly key: string;
  readonly subject: string;
  private readonly getSubject: string;
  private gen: number;
  private latestSet: DesiredSet | undefined;
  private deleted = false;
  /** Bumped by deletions: a get started before one must not resurrect the old value. */
  private epoch = 0;
  private sub: Subscription | undefined;
  private running = false;

  constructor(
    private readonly nc: NatsConnection,
    readonly cluster: string,
    private readonly opts: DesiredSetWatcherOptions,
  ) {
    this.key = desiredKey(cluster);
    this.subject = desiredSubject(cluster);
    this.getSubject = desiredDirectGetSubject(cluster);
    this.gen = opts.initialGeneration ?? 0;
  }

  /** Generation of the newest desired set seen (or the initial one). */
  get generation(): number {
    return this.gen;
  }

  get latest(): DesiredSet | undefined {
    return this.latestSet;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // subscribe before the first get: the server handles both in order on this connection
    this.sub = this.nc.subscribe(this.subject, {
      callback: (err, msg) => {
        if (err) this.opts.onError?.(err);
        else this.handle(msg.data, kvOperation(msg.headers));
      },
    });
    DirectGetPool.for(this.nc).register(this);
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    DirectGetPool.for(this.nc).unregister(this);
    try {
      this.sub?.unsubscribe();
    } catch {
      // connection already closed
    }
    this.sub = undefined;
  }

  /** Reads the key again now (the pool does this after every reconnect). */
  refresh(): void {
    if (this.running) DirectGetPool.for(this.nc).enqueue(this);
  }

  /**
   * One direct get of the key. The key is in the API subject and the payload is empty, so the
   * server's permissions decide what a client may read: an agent's NATS user is allowed this one
   * subject (agentBusPermissions). @internal (used by the pool)
   */
  async fetchOnce(): Promise<FetchResult> {
    const epoch = this.epoch;
    const timeout = this.opts.requestTimeoutMs ?? 5000;
    let msg: Msg;
    try {
      msg = await this.nc.request(this.getSubject, Empty, { timeout });
    } catch (err) {
      const why =
        err instanceof RequestError && err.isNoResponders()
          ? `bucket ${DESIRED_BUCKET} does not exist yet, or allows no direct gets (the hub creates it)`
          : (err as Error).message;
      this.opts.onError?.(new Error(`direct get of ${this.subject}: ${why}`, { cause: err }));
      return 'retry';
    }
    const code = msg.headers?.code ?? 0;
    if (code === 404) return 'ok'; // no value yet
    if (code !== 0 && code !== 200) {
      this.opts.onError?.(
        new Error(`direct get of ${this.subject}: ${code} ${msg.headers?.description ?? ''}`),
      );
      return 'retry';
    }
    if (epoch === this.epoch && this.running) this.handle(msg.data, kvOperation(msg.headers));
    return 'ok';
  }

  private handle(data: Uint8Array, op: string | undefined): void {
    if (op === 'DEL' || op === 'PURGE') {
      this.epoch++;
      this.gen = 0; // a cluster registered again starts over
      this.latestSet = undefined;
      if (!this.deleted) {
        this.deleted = true;
        this.opts.onDeleted?.();
      }
      return;
    }
    let set: DesiredSet;
    try {
      set = DesiredSet.decode(data);
    } catch (err) {
      this.opts.onInvalid?.(
        new Error(`undecodable desired set on ${this.subject}: ${(err as Error).message}`, { cause: err }),
      );
      return;
    }
    try {
      validateDesiredSet(set, this.cluster);
    } catch (err) {
      this.opts.onInvalid?.(new Error(`desired set on ${this.subject} refused: ${(err as Error).message}`));
      return;
    }
    if (set.generation <= this.gen) return;
    this.gen = set.generation;
    this.latestSet = set;
    this.deleted = false;
    this.opts.onDesired(set);
  }
}

function kvOperation(h: MsgHdrs | undefined): string | undefined {
  return h?.get('KV-Operation') || undefined;
}

/**
 * Direct gets of every watcher on one connection: bounded concurrency (a reconnect of 10,000
 * watchers must not fire 10,000 requests at once), one retry timer with backoff for failures
 * (bucket not created yet, timeouts) and one status listener re-reading every key on reconnect.
 */
export class DirectGetPool {
  private static readonly pools = new WeakMap<NatsConnection, DirectGetPool>();
  /** Direct gets in flight per connection. */
  static concurrency = 64;

  private readonly watchers = new Set<DesiredSetWatcher>();
  private readonly queue: DesiredSetWatcher[] = [];
  private readonly queued = new Set<DesiredSetWatcher>();
  private readonly retry = new Set<DesiredSetWatcher>();
  private running = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = 250;
  private listening = false;

  private constructor(private readonly nc: NatsConnection) {}

  static for(nc: NatsConnection): DirectGetPool {
    let p = DirectGetPool.pools.get(nc);
    if (!p) {
      p = new DirectGetPool(nc);
      DirectGetPool.pools.set(nc, p);
    }
    return p;
  }

  register(w: DesiredSetWatcher): void {
    this.watchers.add(w);
    this.listen();
    this.enqueue(w);
  }

  unregister(w: DesiredSetWatcher): void {
    this.watchers.delete(w);
    this.queued.delete(w);
    this.retry.delete(w);
    if (this.watchers.size === 0 && this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
  }

  enqueue(w: DesiredSetWatcher): void {
    if (!this.watchers.has(w) || this.queued.has(w)) return;
    this.retry.delete(w);
    this.queued.add(w);
    this.queue.push(w);
    this.pump();
  }

  private pump(): void {
    while (this.running < DirectGetPool.concurrency && this.queue.length > 0) {
      const w = this.queue.shift()!;
      if (!this.queued.delete(w) || !this.watchers.has(w)) continue;
      if (this.nc.isClosed()) return;
      this.running++;
      void w
        .fetchOnce()
        .catch((): FetchResult => 'retry')
        .then((r) => {
          if (r === 'retry') this.scheduleRetry(w);
          else this.retryDelay = 250;
        })
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }

  private scheduleRetry(w: DesiredSetWatcher): void {
    if (!this.watchers.has(w)) return;
    this.retry.add(w);
    if (this.retryTimer) return;
    const delay = this.retryDelay * (0.75 + Math.random() / 2);
    this.retryDelay = Math.min(this.retryDelay * 2, 30_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      const ws = [...this.retry];
      this.retry.clear();
      for (const x of ws) this.enqueue(x);
    }, delay);
  }

  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    void (async () => {
      for await (const s of this.nc.status()) {
        if (s.type === 'reconnect') {
          this.retryDelay = 250;
          for (const w of this.watchers) this.enqueue(w);
        }
      }
    })()
      .catch(() => undefined)
      .finally(() => {
        if (this.retryTimer) clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
      });
  }
}
