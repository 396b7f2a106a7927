// One NATS connection that keeps itself up, for the hub and the agent. Once connected, nats.js
// reconnects by itself (NATS_RECONNECT_OPTIONS: forever, with jitter). Two things it leaves to us:
// - the first connect. nats.js's waitOnFirstConnect would retry it too, but connect() gives no
//   handle until a server answers: stop() could not end that wait, and its timers would keep the
//   process alive. So the first connect is retried here, with backoff, abortably.
// - a connection closed for good (reconnects are unlimited, so e.g. an authorization failure):
//   here a new connection is started.
// Status changes go to callbacks; stop() drains (bounded) so pending publishes go out.
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { retry, sleep } from './backoff.js';
import type { Logger } from './log.js';
import { scrubSecrets } from './redact.js';

/** The user JWT of a NATS credentials text (a .creds file: JWT block, then seed block), or undefined. */
export function credsUserJwt(creds: string): string | undefined {
  return /-----BEGIN NATS USER JWT-----\s*\n\s*(\S+)\s*\n/.exec(creds)?.[1];
}

/** Reconnect forever, with jitter against reconnect storms; give up on one attempt after 3 s. */
export const NATS_RECONNECT_OPTIONS = {
  maxReconnectAttempts: -1,
  reconnectTimeWait: 1000,
  reconnectJitter: 500,
  timeout: 3000,
} as const;

export interface NatsConnectorOptions {
  servers: string[];
  /** nats.js options besides the servers: the client name, NATS_RECONNECT_OPTIONS, pings. */
  options: Omit<NodeConnectionOptions, 'servers'>;
  log: Logger;
  /** Longest wait between attempts of a first connect (from 250 ms, doubling; default 5 s). */
  maxRetryDelayMs?: number;
  /** The next step for an error that retrying alone will not fix (e.g. refused credentials). */
  hint?(err: Error): string | undefined;
  /** How long stop() lets the drain run before closing (default 3 s). */
  drainTimeoutMs?: number;
  /** A new connection is up (first connect, or after one closed for good). Throwing closes it and retries. */
  onConnect(nc: NatsConnection): void | Promise<void>;
  /** The connection is lost; nats.js is reconnecting. */
  onDisconnect?(nc: NatsConnection): void;
  /** The same connection is back after an outage. */
  onReconnect?(nc: NatsConnection): void;
  /** The connection closed for good (not by stop()); a new one is being connected. */
  onClosed?(nc: NatsConnection, err: Error | undefined): void;
}

export class NatsConnector {
  private current: NatsConnection | undefined;
  private loop: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(private readonly opts: NatsConnectorOptions) {}

  /** The open connection, or undefined before the first connect and after a close. */
  get nc(): NatsConnection | undefined {
    return this.current && !this.current.isClosed() ? this.current : undefined;
  }

  /** Starts connecting in the background; never blocks the caller on NATS. */
  start(): void {
    if (!this.loop && !this.stopping.signal.aborted) this.loop = this.connectLoop();
  }

  private async connectLoop(): Promise<void> {
    const { servers, log } = this.opts;
    await retry(() => this.connectOnce(), {
      firstDelayMs: 250,
      maxDelayMs: this.opts.maxRetryDelayMs ?? 5_000,
      signal: this.stopping.signal,
      onError: (err, retryInMs) => {
        const hint = this.opts.hint?.(err as Error);
        const fields = {
          err: scrubSecrets((err as Error).message),
          servers: servers.map((s) => scrubSecrets(s)),
          retryInMs,
        };
        if (hint) log.error({ ...fields, hint }, 'NATS refused the connection; retrying');
        else log.warn(fields, 'cannot reach NATS; retrying');
      },
    });
  }

  private async connectOnce(): Promise<void> {
    const nc = await connect({ ...this.opts.options, servers: this.opts.servers });
    if (this.stopping.signal.aborted) {
      await nc.close();
      return;
    }
    this.current = nc;
    this.opts.log.info({ server: scrubSecrets(nc.getServer()) }, 'connected to NATS');
    this.watch(nc);
    try {
      await this.opts.onConnect(nc);
    } catch (err) {
      this.current = undefined; // so that closing it does not count as closed for good
      await nc.close().catch(() => undefined);
      throw err;
    }
  }

  private watch(nc: NatsConnection): void {
    const { log } = this.opts;
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') {
          log.warn({ server: scrubSecrets(s.server) }, 'disconnected from NATS; reconnecting');
          this.opts.onDisconnect?.(nc);
        } else if (s.type === 'reconnect') {
          log.info({ server: scrubSecrets(s.server) }, 'reconnected to NATS');
          this.opts.onReconnect?.(nc);
        } else if (s.type === 'error') log.warn({ err: scrubSecrets(s.error.message) }, 'NATS error');
      }
    })().catch(() => undefined);
    void nc.closed().then((closedWith) => {
      if (this.stopping.signal.aborted || this.current !== nc) return;
      const err = closedWith instanceof Error ? closedWith : undefined;
      const hint = err && this.opts.hint?.(err);
      log.error(
        { err: err && scrubSecrets(err.message), ...(hint && { hint }) },
        'NATS connection closed; connecting again',
      );
      this.current = undefined;
      this.opts.onClosed?.(nc, err);
      this.loop = this.connectLoop();
    });
  }

  /** Stops connecting; drains the connection, closing it if the drain takes too long. */
  async stop(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    await this.loop;
    const nc = this.current;
    this.current = undefined;
    if (!nc || nc.isClosed()) return;
    const drained = nc.drain().then(
      () => 'drained' as const,
      () => 'drained' as const,
    );
    const giveUp = new AbortController();
    const outcome = await Promise.race([
      drained,
      sleep(this.opts.drainTimeoutMs ?? 3_000, giveUp.signal).then(() => 'timeout' as const),
    ]);
    giveUp.abort(); // clears the timer when the drain won
    if (outcome === 'timeout') {
      this.opts.log.warn('NATS drain timed out; closing');
      await nc.close().catch(() => undefined);
    }
  }
}
