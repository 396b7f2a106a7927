// The agent's one connection to the hub's NATS. Never blocks the agent: the first connect is
// retried in the background with backoff (the agent keeps reconciling its persisted desired set
// meanwhile); once connected, nats.js reconnects forever (maxReconnectAttempts -1).
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../../lib/log.js';
import { scrubUrls } from '../redact.js';

/** How an agent connects to NATS: reconnect forever, with jitter against reconnect storms. */
export const AGENT_NATS_OPTIONS = {
  maxReconnectAttempts: -1,
  reconnectTimeWait: 1000,
  reconnectJitter: 500,
  timeout: 3000,
  pingInterval: 10_000,
  maxPingOut: 3,
} as const;

export interface HubConnectionOptions {
  natsUrl: string;
  /** Client name shown by the NATS server. */
  name: string;
  log: Logger;
  /** A new connection is up (first connect, or after the previous one closed for good). */
  onConnect(nc: NatsConnection): void;
  /** The same connection is back after an outage. */
  onReconnect?(nc: NatsConnection): void;
  onDisconnect?(): void;
}

export class HubConnection {
  private current: NatsConnection | undefined;
  private closing = false;
  private loop: Promise<void> | undefined;
  private readonly wake = new AbortController();

  constructor(private readonly opts: HubConnectionOptions) {}

  get nc(): NatsConnection | undefined {
    return this.current && !this.current.isClosed() ? this.current : undefined;
  }

  start(): void {
    if (!this.loop && !this.closing) this.loop = this.connectLoop();
  }

  private async connectLoop(): Promise<void> {
    let delay = 250;
    const servers = this.opts.natsUrl.split(',').map((s) => s.trim());
    while (!this.closing) {
      try {
        const nc = await connect({ servers, name: this.opts.name, ...AGENT_NATS_OPTIONS });
        if (this.closing) {
          await nc.close();
          return;
        }
        this.current = nc;
        this.opts.log.info({ server: nc.getServer() }, 'connected to NATS');
        this.watch(nc);
        this.opts.onConnect(nc);
        return;
      } catch (err) {
        this.opts.log.warn(
          { err: scrubUrls((err as Error).message), servers: servers.map(scrubUrls), retryInMs: delay },
          'cannot reach NATS; retrying',
        );
        await sleep(delay, this.wake.signal);
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  private watch(nc: NatsConnection): void {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') {
          this.opts.log.warn('disconnected from NATS; reconnecting');
          this.opts.onDisconnect?.();
        } else if (s.type === 'reconnect') {
          this.opts.log.info({ server: s.server }, 'reconnected to NATS');
          this.opts.onReconnect?.(nc);
        }
      }
    })().catch(() => undefined);
    void nc.closed().then((err) => {
      if (this.closing) return;
      // reconnects are unlimited, so this is e.g. an authorization failure: start over
      this.opts.log.error(
        { err: err ? scrubUrls(err.message) : undefined },
        'NATS connection closed; connecting again',
      );
      if (this.current === nc) this.current = undefined;
      this.opts.onDisconnect?.();
      this.loop = this.connectLoop();
    });
  }

  /** Stops connecting; drains the connection (bounded) so pending publishes go out. */
  async stop(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.wake.abort();
    await this.loop;
    const nc = this.current;
    this.current = undefined;
    if (nc && !nc.isClosed()) {
      const giveUp = new AbortController();
      const drained = nc.drain().then(
        () => 'drained' as const,
        () => 'drained' as const,
      );
      const outcome = await Promise.race([
        drained,
        sleep(3000, giveUp.signal).then(() => 'timeout' as const),
      ]);
      giveUp.abort(); // clears the timer when the drain won
      if (outcome === 'timeout') await nc.close().catch(() => undefined);
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
