// The agent's bus credentials: obtained once by joining, kept in a Secret of the agent's own
// namespace (written and read with the agent's identity only) and reused on every start. A new
// join token (after `gitfleet cluster revoke`) replaces them.
import { LABEL_MANAGED_BY, MANAGED_BY } from '../../proto/index.js';
import { retry } from '../../lib/backoff.js';
import { credsUserJwt } from '../../lib/nats-connect.js';
import type { Logger } from '../../lib/log.js';
import type { KubeClient } from '../kube/kube-client.js';
import { ensureAgentNamespace } from '../state/agent-namespace.js';
import {
  checkJoinResponse,
  joinBus,
  JoinRefusedError,
  joinTokenId,
  type BusCredentials,
  type JoinTarget,
} from './join.js';
import { decode as decodeJwt } from '@nats-io/jwt';

export function busCredentialsSecretName(cluster: string): string {
  return `gitfleet-bus-${cluster}`;
}

const KEYS = {
  creds: 'user.creds',
  natsUrls: 'nats-urls',
  inboxPrefix: 'inbox-prefix',
  joinTokenId: 'join-token-id',
} as const;

export class BusCredentialsStore {
  private readonly name: string;

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly cluster: string,
  ) {
    this.name = busCredentialsSecretName(cluster);
  }

  get secretName(): string {
    return `${this.namespace}/${this.name}`;
  }

  /** The stored credentials; undefined when there are none, or they are not this cluster's. */
  async load(): Promise<BusCredentials | undefined> {
    const secret = await this.client.get({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: this.namespace,
      name: this.name,
    });
    const data = (secret?.data ?? {}) as Record<string, string>;
    const text = (k: string) => (data[k] ? Buffer.from(data[k], 'base64').toString('utf8') : '');
    const creds = text(KEYS.creds);
    if (!creds) return undefined;
    const stored: BusCredentials = {
      creds,
      natsUrls: text(KEYS.natsUrls).split(',').filter(Boolean),
      inboxPrefix: text(KEYS.inboxPrefix),
      joinTokenId: text(KEYS.joinTokenId),
    };
    // the same checks as a fresh join's answer: a Secret edited by hand must not widen anything
    const jwt = credsUserJwt(creds) ?? '';
    let publicKey = '';
    try {
      publicKey = decodeJwt(jwt).sub;
    } catch {
      // checkJoinResponse names the problem
    }
    checkJoinResponse(this.cluster, publicKey, {
      userJwt: jwt,
      natsUrls: stored.natsUrls,
      inboxPrefix: stored.inboxPrefix,
    });
    return stored;
  }

  async save(c: BusCredentials): Promise<void> {
    await ensureAgentNamespace(this.client, this.namespace);
    const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
    await this.client.apply(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        metadata: { name: this.name, namespace: this.namespace, labels: { [LABEL_MANAGED_BY]: MANAGED_BY } },
        data: {
          [KEYS.creds]: b64(c.creds),
          [KEYS.natsUrls]: b64(c.natsUrls.join(',')),
          [KEYS.inboxPrefix]: b64(c.inboxPrefix),
          [KEYS.joinTokenId]: b64(c.joinTokenId),
        },
      },
      { force: true }, // the agent's own state: nobody else's fields to respect
    );
  }
}

export interface ObtainOptions {
  cluster: string;
  store: BusCredentialsStore;
  /** --join TOKEN --hub ADDR: join when there are no stored credentials, or they came from another token. */
  join?: JoinTarget;
  agentVersion: string;
  log: Logger;
  signal: AbortSignal;
  /** One join attempt (tests replace it). */
  joinOnce?: typeof joinBus;
}

/**
 * The credentials the agent connects with: the stored ones, unless a join token they did not come
 * from is given, in which case the agent joins (retrying while the hub cannot be reached) and
 * stores the result before using it. Undefined: no credentials and no token, an unauthenticated bus.
 */
export async function obtainBusCredentials(o: ObtainOptions): Promise<BusCredentials | undefined> {
  let stored: BusCredentials | undefined;
  try {
    stored = await o.store.load();
  } catch (err) {
    o.log.warn(
      { secret: o.store.secretName, err: (err as Error).message },
      'stored bus credentials are not usable; joining anew if a join token is given',
    );
  }
  const tokenId = o.join ? joinTokenId(o.join.token) : undefined;
  if (stored && (!o.join || stored.joinTokenId === tokenId)) {
    o.log.info(
      { secret: o.store.secretName, joinToken: stored.joinTokenId },
      'using the stored bus credentials',
    );
    return stored;
  }
  if (!o.join) return undefined;
  const joinOnce = o.joinOnce ?? joinBus;
  let refused: Error | undefined;
  let attempts = 0;
  const joined = await retry(
    async () => {
      attempts++;
      try {
        return await joinOnce(o.cluster, o.join!, o.agentVersion);
      } catch (err) {
        if (err instanceof JoinRefusedError) {
          refused = err;
          return undefined;
        }
        throw err;
      }
    },
    {
      firstDelayMs: 500,
      maxDelayMs: 15_000,
      signal: o.signal,
      // with credentials in hand, an unreachable hub does not keep the agent from starting
      while: () => !refused && (!stored || attempts < 3),
      onError: (err, retryInMs) =>
        o.log.warn({ err: (err as Error).message, retryInMs }, 'cannot join yet; retrying'),
    },
  );
  if (!joined) {
    if (stored) {
      o.log.error(
        { err: refused?.message ?? 'the hub cannot be reached', joinToken: stored.joinTokenId },
        'joining with the new token failed; keeping the credentials of the earlier join',
      );
      return stored;
    }
    if (refused) throw refused;
    return undefined; // stopped while waiting
  }
  // the token is spent: keep trying to store what it bought (the API server may be away a while)
  await retry(() => o.store.save(joined), {
    firstDelayMs: 500,
    maxDelayMs: 15_000,
    signal: o.signal,
    onError: (err, retryInMs) =>
      o.log.warn(
        { secret: o.store.secretName, err: (err as Error).message, retryInMs },
        'cannot store the bus credentials yet; retrying',
      ),
  });
  o.log.info(
    { secret: o.store.secretName, joinToken: joined.joinTokenId },
    'joined the bus; credentials stored',
  );
  return joined;
}
