// The hub's side of bus authentication: it issues each joining agent a user JWT that confines it
// to its own cluster's subjects, and cuts agents off by revoking their keys in the gitfleet
// account JWT, which it re-signs and pushes to the NATS servers (as a system-account user, on
// $SYS.REQ.ACCOUNT.<account>.CLAIMS.UPDATE). Revocations live in the store, so every push carries
// all of them, and one is pushed on every (re)connect: a server that lost its resolver directory,
// or runs a memory resolver, learns them again.
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { connect, credsAuthenticator } from '@nats-io/transport-node';
import type { Subscription } from 'rxjs';
import type { Logger } from '../../lib/log.js';
import { scrubSecrets } from '../../lib/redact.js';
import { FailedPreconditionError, UnavailableError } from '../common/errors.js';
import { HUB_CONFIG, HUB_LOGGER } from '../config/config.module.js';
import type { BusAuthConfig, ResolvedHubConfig } from '../config/hub-config.js';
import type { HubDb } from '../store/database.js';
import { HUB_DB } from '../store/store.module.js';
import { agentUserJwt, gitfleetAccountJwt } from './bus-keys.js';
import { BusService } from './bus.service.js';

/** Subject a system-account user sends an account JWT on to update it on the servers. */
export function accountClaimsUpdateSubject(account: string): string {
  return `$SYS.REQ.ACCOUNT.${account}.CLAIMS.UPDATE`;
}

const PUSH_TIMEOUT_MS = 5_000;

@Injectable()
export class BusAuthService implements OnModuleInit, OnModuleDestroy {
  private readonly auth: BusAuthConfig | undefined;
  private readonly log: Logger;
  private pushing: Promise<void> = Promise.resolve();
  private sub: Subscription | undefined;

  constructor(
    @Inject(HUB_CONFIG) private readonly config: ResolvedHubConfig,
    @Inject(HUB_DB) private readonly db: HubDb,
    @Inject(BusService) private readonly bus: BusService,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.auth = config.busAuth;
    this.log = log.child({ module: 'bus-auth' });
  }

  onModuleInit(): void {
    if (!this.auth) {
      this.log.warn(
        'the bus is not authenticated (no --nats-creds): any NATS client can read every desired set and publish status as any cluster; `gitfleet bus init` sets up authentication',
      );
      return;
    }
    // every (re)connect: the servers get the account with every revocation
    this.sub = this.bus.connected$.subscribe(() => {
      this.pushAccount().catch((err: unknown) =>
        this.log.error(
          { err: scrubSecrets((err as Error).message) },
          'cannot push the account JWT with its revocations to NATS; retrying on the next reconnect or revocation',
        ),
      );
    });
  }

  onModuleDestroy(): void {
    this.sub?.unsubscribe();
  }

  /** True when the bus is authenticated and the hub can issue agents' credentials. */
  get enabled(): boolean {
    return this.auth !== undefined;
  }

  /** The URLs a joining agent connects to. */
  get agentNatsServers(): string[] {
    return this.config.agentNatsServers;
  }

  /** Throws a clear FailedPrecondition unless the bus is authenticated. */
  required(): BusAuthConfig {
    if (!this.auth) {
      throw new FailedPreconditionError(
        'the bus is not authenticated, so agents need no join token: run them with --nats URL alone, or set up authentication with `gitfleet bus init` and start the hub with --nats-creds',
      );
    }
    return this.auth;
  }

  /** A user JWT for the agent of `cluster` with this public key: its own subjects only. */
  issueAgentJwt(cluster: string, publicKey: string): Promise<string> {
    return agentUserJwt(this.required().keys, cluster, publicKey);
  }

  async isRevoked(publicKey: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('bus_revocations')
      .select('public_key')
      .where('public_key', '=', publicKey)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Revokes an agent's key for good and pushes the account to the servers, which close that
   * agent's connection at once and refuse it from then on.
   */
  async revoke(cluster: string, publicKey: string): Promise<void> {
    this.required();
    await this.db
      .insertInto('bus_revocations')
      .values({ public_key: publicKey, cluster, revoked_at_s: Math.floor(Date.now() / 1000) })
      .onConflict((oc) => oc.column('public_key').doNothing())
      .execute();
    this.log.info({ cluster, publicKey }, 'agent key revoked');
    await this.pushAccount();
  }

  /** Signs the account JWT with every stored revocation and sends it to the servers (serialized). */
  pushAccount(): Promise<void> {
    const next = this.pushing.catch(() => undefined).then(() => this.pushOnce());
    this.pushing = next;
    return next;
  }

  private async pushOnce(): Promise<void> {
    const auth = this.required();
    const rows = await this.db.selectFrom('bus_revocations').select(['public_key', 'revoked_at_s']).execute();
    // JWTs issued up to the revocation second are void; +1 covers one issued in that same second
    const revocations = Object.fromEntries(rows.map((r) => [r.public_key, Number(r.revoked_at_s) + 1]));
    const jwt = await gitfleetAccountJwt(auth.keys, revocations);
    let nc;
    try {
      nc = await connect({
        servers: this.config.natsServers,
        name: 'gitfleet-hub-system',
        authenticator: credsAuthenticator(new TextEncoder().encode(auth.keys.systemUserCreds)),
        timeout: PUSH_TIMEOUT_MS,
      });
    } catch (err) {
      throw new UnavailableError(
        `cannot reach NATS as the system user to update the account (${scrubSecrets((err as Error).message)})`,
      );
    }
    try {
      const msg = await nc.request(accountClaimsUpdateSubject(auth.keys.account), jwt, {
        timeout: PUSH_TIMEOUT_MS,
      });
      const reply = msg.json<{
        data?: { code?: number; message?: string };
        error?: { description?: string };
      }>();
      if (reply.error || reply.data?.code !== 200) {
        throw new UnavailableError(
          `NATS refused the account update: ${reply.error?.description ?? reply.data?.message ?? JSON.stringify(reply)}`,
        );
      }
      this.log.debug({ revocations: rows.length }, 'account JWT pushed to NATS');
    } finally {
      await nc.close().catch(() => undefined);
    }
  }
}
