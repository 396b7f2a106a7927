// The agent's one connection to the hub's NATS, kept up by lib's NatsConnector. Never blocks the
// agent: the first connect is retried in the background with backoff (the agent keeps reconciling
// its persisted desired set meanwhile); once connected, nats.js reconnects forever.
import { credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../../lib/log.js';
import { NATS_RECONNECT_OPTIONS, NatsConnector } from '../../lib/nats-connect.js';

/** How an agent connects to NATS: reconnect forever with jitter; pings notice a dead server in ~30 s. */
export const AGENT_NATS_OPTIONS = {
  ...NATS_RECONNECT_OPTIONS,
  pingInterval: 10_000,
  maxPingOut: 3,
} as const;

/** Where and as whom the agent connects to the bus. */
export interface BusSettings {
  servers: string[];
  /** NATS credentials (user JWT + seed) from joining; absent on an unauthenticated bus. */
  creds?: string;
  /** The cluster's inbox prefix: its NATS user may receive replies only there. */
  inboxPrefix?: string;
}

/** Says what to do when the server refuses the agent's credentials (revoked, or replaced by a later join). */
export function busAuthHint(err: Error, cluster: string): string | undefined {
  return /authorization violation|revoked|authentication expired/i.test(err.message)
    ? `NATS refused this agent's credentials (revoked, or another agent joined as ${cluster}): make a join token with \`gitfleet cluster token create ${cluster}\` and restart the agent with --join TOKEN`
    : undefined;
}

export interface HubConnectionOptions {
  bus: BusSettings;
  cluster: string;
  /** Client name shown by the NATS server. */
  name: string;
  log: Logger;
  /** A new connection is up (first connect, or after the previous one closed for good). */
  onConnect(nc: NatsConnection): void;
  /** The same connection is back after an outage. */
  onReconnect?(nc: NatsConnection): void;
  /** The connection is lost (nats.js reconnects) or closed for good (a new one is connected). */
  onDisconnect?(): void;
}

export class HubConnection extends NatsConnector {
  constructor(opts: HubConnectionOptions) {
    super({
      servers: opts.bus.servers,
      options: {
        name: opts.name,
        ...AGENT_NATS_OPTIONS,
        ...(opts.bus.inboxPrefix && { inboxPrefix: opts.bus.inboxPrefix }),
        ...(opts.bus.creds && {
          authenticator: credsAuthenticator(new TextEncoder().encode(opts.bus.creds)),
        }),
      },
      hint: (err) => busAuthHint(err, opts.cluster),
      log: opts.log,
      maxRetryDelayMs: 5_000,
      drainTimeoutMs: 3_000,
      onConnect: (nc) => opts.onConnect(nc),
      onReconnect: opts.onReconnect && ((nc) => opts.onReconnect!(nc)),
      onDisconnect: () => opts.onDisconnect?.(),
      onClosed: () => opts.onDisconnect?.(),
    });
  }
}
