// How an agent joins the bus: the operator makes a one-time join token for a cluster; the agent
// sends it with the public half of a key pair it made itself and receives a user JWT confined to
// that cluster's subjects. Revoking a cluster voids its key on the NATS servers at once.
import { Inject, Injectable } from '@nestjs/common';
import type { Cluster } from '../../proto/index.js';
import type { CreateJoinTokenResponse, JoinRequest, JoinResponse } from '../../proto/api.js';
import { agentInboxPrefix } from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import { matches, newToken, tokenId } from '../auth/token.js';
import { isUserPublicKey } from '../bus/bus-keys.js';
import { BusAuthService } from '../bus/bus-auth.service.js';
import {
  FailedPreconditionError,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
  ValidationError,
} from '../common/errors.js';
import { checkDnsLabel } from '../common/names.js';
import { HUB_LOGGER } from '../config/config.module.js';
import { ClustersRepository } from './clusters.repository.js';
import { JoinTokensRepository } from './join-tokens.repository.js';

export const DEFAULT_JOIN_TOKEN_TTL_SECONDS = 3600;
/** A join token lives at most a week: it is meant for one install, soon. */
export const MAX_JOIN_TOKEN_TTL_SECONDS = 7 * 24 * 3600;
const DAY_MS = 24 * 3600 * 1000;

@Injectable()
export class JoinService {
  private readonly log: Logger;

  constructor(
    @Inject(JoinTokensRepository) private readonly tokens: JoinTokensRepository,
    @Inject(ClustersRepository) private readonly clusters: ClustersRepository,
    @Inject(BusAuthService) private readonly busAuth: BusAuthService,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'join' });
  }

  private async cluster(name: string): Promise<Cluster> {
    checkDnsLabel('cluster', name);
    const c = await this.clusters.get(name);
    if (!c) throw new NotFoundError('cluster', name);
    return c;
  }

  async createToken(clusterName: string, ttlSeconds: number): Promise<CreateJoinTokenResponse> {
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > MAX_JOIN_TOKEN_TTL_SECONDS) {
      throw new ValidationError(
        'ttl_seconds',
        `a join token lives 1 s to ${MAX_JOIN_TOKEN_TTL_SECONDS / 86400} days (0: one hour)`,
      );
    }
    const cluster = await this.cluster(clusterName);
    this.busAuth.required();
    const now = Date.now();
    const t = newToken('gfj');
    const expiresAtMs = now + (ttlSeconds || DEFAULT_JOIN_TOKEN_TTL_SECONDS) * 1000;
    await this.tokens.prune(now - DAY_MS);
    await this.tokens.insert({
      id: t.id,
      cluster: cluster.name,
      secretHash: t.hash,
      createdAtMs: now,
      expiresAtMs,
      usedAtMs: 0,
    });
    this.log.info({ cluster: cluster.name, token: t.id, expiresAtMs }, 'join token created');
    return { token: t.secret, expiresAtMs };
  }

  async join(req: JoinRequest): Promise<JoinResponse> {
    checkDnsLabel('cluster', req.cluster);
    const id = tokenId(req.token, 'gfj');
    if (!id)
      throw new UnauthenticatedError(
        'not a join token (gfj_…): create one with `gitfleet cluster token create CLUSTER`',
      );
    if (!isUserPublicKey(req.publicKey)) {
      throw new ValidationError('public_key', 'expected a NATS user public key ("U…", 56 characters)');
    }
    const stored = await this.tokens.get(id);
    const now = Date.now();
    const again = `create a new one with \`gitfleet cluster token create ${req.cluster}\``;
    // one message for unknown and wrong secrets: a caller learns nothing about which ids exist
    if (!stored || !matches(req.token, stored.secretHash))
      throw new UnauthenticatedError(`join token ${id} is not valid`);
    if (stored.cluster !== req.cluster) {
      throw new PermissionDeniedError(
        `join token ${id} is for another cluster, not ${JSON.stringify(req.cluster)}`,
      );
    }
    if (stored.usedAtMs) throw new UnauthenticatedError(`join token ${id} was used already: ${again}`);
    if (stored.expiresAtMs <= now) throw new UnauthenticatedError(`join token ${id} has expired: ${again}`);
    const cluster = await this.cluster(req.cluster);
    if (await this.busAuth.isRevoked(req.publicKey)) {
      throw new FailedPreconditionError('this public key was revoked: the agent must make a new key pair');
    }
    const jwt = await this.busAuth.issueAgentJwt(cluster.name, req.publicKey);
    if (!(await this.tokens.consume(id, now)))
      throw new UnauthenticatedError(`join token ${id} was used already: ${again}`);
    await this.tokens.setAgentKey(cluster.name, req.publicKey, now);
    // a new agent replaces the old one: its key stops working. The token is spent, so this join
    // must not fail now: a revocation that cannot be pushed yet is kept and pushed on reconnect.
    if (cluster.agentPublicKey && cluster.agentPublicKey !== req.publicKey) {
      await this.busAuth
        .revoke(cluster.name, cluster.agentPublicKey)
        .catch((err: unknown) =>
          this.log.error(
            { cluster: cluster.name, publicKey: cluster.agentPublicKey, err: (err as Error).message },
            'the replaced agent key is revoked in the store but not yet on NATS; it is pushed on the next reconnect',
          ),
        );
    }
    this.log.info({ cluster: cluster.name, token: id, publicKey: req.publicKey }, 'agent joined');
    return {
      userJwt: jwt,
      natsUrls: this.busAuth.agentNatsServers,
      inboxPrefix: agentInboxPrefix(cluster.name),
    };
  }

  /** Cuts the cluster's agent off the bus and voids its unused join tokens. */
  async revoke(name: string): Promise<void> {
    const cluster = await this.cluster(name);
    const now = Date.now();
    await this.tokens.voidUnused(cluster.name, now);
    if (cluster.agentPublicKey) {
      await this.busAuth.revoke(cluster.name, cluster.agentPublicKey);
      await this.tokens.setAgentKey(cluster.name, '', 0);
    }
    this.log.info({ cluster: cluster.name }, 'cluster revoked');
  }
}
