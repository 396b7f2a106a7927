// The hub's one NATS connection. Nest's NATS transport is core-NATS only, so this wraps
// @nats-io/transport-node + JetStream itself. The connection reconnects forever; `connected$`
// emits on the first connection and on every reconnect, which is when users (desired-set
// publisher, status ingest) re-ensure their streams and re-project: the bus may have lost state.
import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { ReplaySubject, type Observable } from 'rxjs';
import type { Logger } from '../../lib/log.js';
import { HUB_CONFIG, HUB_LOGGER } from '../config/config.module.js';
import type { ResolvedHubConfig } from '../config/hub-config.js';

export interface BusConnection {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/** Every JetStream request the hub makes times out after this. */
export const JS_TIMEOUT_MS = 10_000;

@Injectable()
export class BusService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly log: Logger;
  private conn: BusConnection | undefined;
  private readonly events = new ReplaySubject<BusConnection>(1);
  private closing = false;
  private online = false;
  private connecting: Promise<void> | undefined;
  private readonly wakeUp = new AbortController();

  constructor(
    @Inject(HUB_CONFIG) private readonly config: ResolvedHubConfig,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'bus' });
  }

  /** Emits the connection when it is first established and again after every reconnect. */
  get connected$(): Observable<BusConnection> {
    return this.events.asObservable();
  }

  /** True while connected (false during a reconnect): callers fail fast instead of buffering. */
  get isOnline(): boolean {
    return this.online && this.current !== undefined;
  }

  /** The live connection, or undefined while the hub has never reached NATS. */
  get current(): BusConnection | undefined {
    return this.conn && !this.conn.nc.isClosed() ? this.conn : undefined;
  }

  onModuleInit(): void {
    // Never block start-up on NATS: the API and the store work without it, and everything that
    // needs the bus catches up when connected$ fires.
    this.connecting = this.connectLoop();
  }

  private async connectLoop(): Promise<void> {
    let delay = 250;
    while (!this.closing) {
      try {
        const nc = await connect({
          servers: this.config.natsServers,
          name: 'gitfleet-hub',
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1000,
          reconnectJitter: 500,
          timeout: 3000,
        });
        if (this.closing) {
          await nc.close();
          return;
        }
        const js = jetstream(nc, { timeout: JS_TIMEOUT_MS });
        const jsm = await jetstreamManager(nc, { timeout: JS_TIMEOUT_MS, checkAPI: false });
        this.conn = { nc, js, jsm };
        this.online = true;
        this.log.info({ server: nc.getServer() }, 'connected to NATS');
        this.watch(this.conn);
        this.events.next(this.conn);
        return;
      } catch (err) {
        this.log.warn(
          { err: (err as Error).message, servers: this.config.natsServers, retryInMs: delay },
          'cannot reach NATS; retrying',
        );
        await sleep(delay, this.wakeUp.signal);
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  private watch(conn: BusConnection): void {
    void (async () => {
      for await (const s of conn.nc.status()) {
        if (s.type === 'disconnect') {
          // offline until reconnected: a write sent now would sit in the client's buffer and
          // wait out its whole timeout; the verify pass on reconnect publishes it instead
          this.online = false;
          this.log.warn({ server: s.server }, 'disconnected from NATS; reconnecting');
        } else if (s.type === 'reconnect') {
          this.online = true;
          this.log.info({ server: s.server }, 'reconnected to NATS');
          this.events.next(conn);
        } else if (s.type === 'error') this.log.warn({ err: s.error.message }, 'NATS error');
      }
    })().catch(() => undefined);
    void conn.nc.closed().then((err) => {
      if (this.closing) return;
      // reconnect attempts are unlimited, so this is an auth failure or similar: start over
      this.log.error({ err: err?.message }, 'NATS connection closed; connecting again');
      if (this.conn === conn) this.conn = undefined;
      this.online = false;
      this.connecting = this.connectLoop();
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.wakeUp.abort();
    await this.connecting;
    const conn = this.conn;
    this.conn = undefined;
    this.events.complete();
    if (conn && !conn.nc.isClosed()) {
      const drained = conn.nc.drain().catch(() => undefined);
      const cancel = new AbortController();
      const timedOut = sleep(5000, cancel.signal).then(() => (cancel.signal.aborted ? undefined : 'timeout'));
      const outcome = await Promise.race([drained, timedOut]);
      cancel.abort();
      if (outcome === 'timeout') {
        this.log.warn('NATS drain timed out; closing');
        await conn.nc.close().catch(() => undefined);
      }
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
