// The hub's one NATS connection. Nest's NATS transport is core-NATS only, so this wraps
// @nats-io/transport-node + JetStream itself, kept up by lib's NatsConnector. `connected$` emits
// on the first connection and on every reconnect, which is when users (desired-set publisher,
// status ingest) re-ensure their streams and re-project: the bus may have lost state.
import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { ReplaySubject, type Observable } from 'rxjs';
import { DEFAULT_MAX_PAYLOAD } from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import { NATS_RECONNECT_OPTIONS, NatsConnector } from '../../lib/nats-connect.js';
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
  private conn: BusConnection | undefined;
  private readonly events = new ReplaySubject<BusConnection>(1);
  private online = false;
  private lastMaxPayload = DEFAULT_MAX_PAYLOAD;
  private closing = false;
  private readonly connector: NatsConnector;

  constructor(@Inject(HUB_CONFIG) config: ResolvedHubConfig, @Inject(HUB_LOGGER) log: Logger) {
    this.connector = new NatsConnector({
      servers: config.natsServers,
      options: {
        name: 'gitfleet-hub',
        ...NATS_RECONNECT_OPTIONS,
        ...(config.busAuth && {
          authenticator: credsAuthenticator(new TextEncoder().encode(config.busAuth.creds)),
        }),
      },
      log: log.child({ module: 'bus' }),
      maxRetryDelayMs: 10_000,
      drainTimeoutMs: 5_000,
      onConnect: async (nc) => {
        const js = jetstream(nc, { timeout: JS_TIMEOUT_MS });
        const jsm = await jetstreamManager(nc, { timeout: JS_TIMEOUT_MS, checkAPI: false });
        if (this.closing) return;
        this.conn = { nc, js, jsm };
        this.online = true;
        this.events.next(this.conn);
      },
      // offline until reconnected: a write sent now would sit in the client's buffer and wait
      // out its whole timeout; the verify pass on reconnect publishes it instead
      onDisconnect: () => (this.online = false),
      onReconnect: (nc) => {
        if (this.conn?.nc !== nc) return;
        this.online = true;
        this.events.next(this.conn);
      },
      onClosed: (nc) => {
        if (this.conn?.nc === nc) this.conn = undefined;
        this.online = false;
      },
    });
  }

  /** Emits the connection when it is first established and again after every reconnect. */
  get connected$(): Observable<BusConnection> {
    return this.events.asObservable();
  }

  /** True while connected (false during a reconnect): callers fail fast instead of buffering. */
  get isOnline(): boolean {
    return this.online && this.current !== undefined;
  }

  /**
   * The server's max_payload (bytes one message may carry), as announced on the connection; the
   * last one seen while offline, NATS's default before the first connect.
   */
  get maxPayload(): number {
    const announced = this.current?.nc.info?.max_payload;
    if (typeof announced === 'number' && announced > 0) this.lastMaxPayload = announced;
    return this.lastMaxPayload;
  }

  /** The live connection, or undefined while the hub has never reached NATS. */
  get current(): BusConnection | undefined {
    return this.conn && !this.conn.nc.isClosed() ? this.conn : undefined;
  }

  onModuleInit(): void {
    // Never block start-up on NATS: the API and the store work without it, and everything that
    // needs the bus catches up when connected$ fires.
    this.connector.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const stopped = this.connector.stop();
    // offline while the connection drains: writes fail fast
    this.conn = undefined;
    this.online = false;
    this.events.complete();
    await stopped;
  }
}
