import { describe, expect, it } from '@jest/globals';
import { encodeUser, fmtCreds } from '@nats-io/jwt';
import { createAccount, createUser } from '@nats-io/nkeys';
import { agentBusPermissions, agentInboxPrefix } from '../../proto/index.js';
import { createLogger } from '../../lib/log.js';
import type { KubeClient } from '../kube/kube-client.js';
import { BusCredentialsStore, obtainBusCredentials } from './bus-credentials.js';
import { checkJoinResponse, JoinRefusedError, type BusCredentials } from './join.js';

const log = createLogger('test', 'silent');
const TOKEN_A = `gfj_aaaaaaaaaaaaaaaa_${'a'.repeat(43)}`;
const TOKEN_B = `gfj_bbbbbbbbbbbbbbbb_${'b'.repeat(43)}`;

async function jwtFor(
  cluster: string,
  perms: { publish: string[]; subscribe: string[]; resp?: { max: number; ttl: number } } = {
    ...agentBusPermissions(cluster),
    resp: { max: 1, ttl: agentBusPermissions(cluster).responses.ttlMs * 1e6 },
  },
) {
  const key = createUser();
  const jwt = await encodeUser(`agent-${cluster}`, key, createAccount(), {
    pub: { allow: perms.publish },
    sub: { allow: perms.subscribe },
    ...(perms.resp && { resp: perms.resp }),
  });
  return { key, jwt };
}

async function credsFor(cluster: string, joinTokenId: string): Promise<BusCredentials> {
  const { key, jwt } = await jwtFor(cluster);
  return {
    creds: new TextDecoder().decode(fmtCreds(jwt, key)),
    natsUrls: ['nats://nats.example:4222'],
    inboxPrefix: agentInboxPrefix(cluster),
    joinTokenId,
  };
}

/** A KubeClient holding Secrets in memory (get/apply only). */
function memoryClient(): KubeClient & { secrets: Map<string, Record<string, unknown>> } {
  const secrets = new Map<string, Record<string, unknown>>();
  return {
    secrets,
    get: async (ref: { namespace?: string; name: string }) => secrets.get(`${ref.namespace}/${ref.name}`),
    apply: async (obj: { metadata: { namespace: string; name: string } }) => {
      secrets.set(`${obj.metadata.namespace}/${obj.metadata.name}`, obj as never);
      return obj;
    },
  } as never;
}

/** A response field set carrying this JWT, and the key it is for. */
async function signed(p: ReturnType<typeof jwtFor>) {
  const { key, jwt } = await p;
  return { userJwt: jwt, publicKey: key.getPublicKey() };
}

describe('checkJoinResponse', () => {
  it("accepts exactly the cluster's permissions, inbox and nats URLs", async () => {
    const { key, jwt } = await jwtFor('edge');
    expect(() =>
      checkJoinResponse('edge', key.getPublicKey(), {
        userJwt: jwt,
        natsUrls: ['nats://n:4222', 'tls://m:4222'],
        inboxPrefix: '_INBOX_edge',
      }),
    ).not.toThrow();
  });

  it('accepts credentials from before control requests (no control subject, no answers)', async () => {
    const perms = agentBusPermissions('edge');
    const { key, jwt } = await jwtFor('edge', {
      publish: perms.publish,
      subscribe: perms.subscribe.filter((s) => !s.startsWith('gitfleet.control.')),
    });
    expect(() =>
      checkJoinResponse('edge', key.getPublicKey(), {
        userJwt: jwt,
        natsUrls: ['nats://n:4222'],
        inboxPrefix: '_INBOX_edge',
      }),
    ).not.toThrow();
  });

  it.each([
    ['garbage for a JWT', async () => ({ userJwt: 'not.a.jwt' }), /no valid user JWT/],
    [
      'a JWT for another key',
      async () => ({ userJwt: (await jwtFor('edge')).jwt, otherKey: true }),
      /another key/,
    ],
    [
      'wider permissions',
      () => signed(jwtFor('edge', { publish: ['>'], subscribe: ['>'] })),
      /permissions of cluster edge/,
    ],
    ["another cluster's permissions", () => signed(jwtFor('other')), /permissions of cluster edge/],
    [
      'more answers per control request',
      () =>
        signed(
          jwtFor('edge', {
            ...agentBusPermissions('edge'),
            resp: { max: 100, ttl: 1e9 },
          }),
        ),
      /permissions of cluster edge/,
    ],
    ['another inbox', async () => ({ inboxPrefix: '_INBOX' }), /inbox prefix/],
    ['no NATS URL', async () => ({ natsUrls: [] }), /0 NATS URLs/],
    ['a URL with a password', async () => ({ natsUrls: ['nats://u:pw@h:4222'] }), /not nats:\/\/host:port/],
    ['a file URL', async () => ({ natsUrls: ['file:///etc/passwd'] }), /not nats:\/\/host:port/],
    [
      'too many URLs',
      async () => ({ natsUrls: Array.from({ length: 50 }, () => 'nats://h:1') }),
      /50 NATS URLs/,
    ],
  ])('refuses %s', async (_what, make, message) => {
    const own = await jwtFor('edge');
    const over = (await make()) as Record<string, unknown>;
    const publicKey = over.otherKey
      ? createUser().getPublicKey()
      : ((over.publicKey as string | undefined) ?? own.key.getPublicKey());
    delete over.publicKey;
    const res = { userJwt: own.jwt, natsUrls: ['nats://n:4222'], inboxPrefix: '_INBOX_edge', ...over };
    let err: unknown;
    try {
      checkJoinResponse('edge', publicKey, res as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JoinRefusedError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('pw@');
  });
});

describe('obtainBusCredentials', () => {
  const base = (client: KubeClient) => ({
    cluster: 'edge',
    store: new BusCredentialsStore(client, 'gitfleet-system', 'edge'),
    agentVersion: 'test',
    log,
    signal: new AbortController().signal,
  });

  it('joins once, stores the credentials, and reuses them on the next start with the same token', async () => {
    const client = memoryClient();
    let joins = 0;
    const joinOnce = async () => {
      joins++;
      return credsFor('edge', 'aaaaaaaaaaaaaaaa');
    };
    const join = { token: TOKEN_A, hub: 'hub:7400' };
    const first = await obtainBusCredentials({ ...base(client), join, joinOnce });
    expect(client.secrets.has('gitfleet-system/gitfleet-bus-edge')).toBe(true);
    const again = await obtainBusCredentials({ ...base(client), join, joinOnce });
    const noToken = await obtainBusCredentials({ ...base(client), joinOnce });
    expect(joins).toBe(1);
    expect(again).toEqual(first);
    expect(noToken).toEqual(first);
  });

  it('joins again with a new token, and keeps the old credentials when the hub refuses it', async () => {
    const client = memoryClient();
    const old = await credsFor('edge', 'aaaaaaaaaaaaaaaa');
    await new BusCredentialsStore(client, 'gitfleet-system', 'edge').save(old);
    const fresh = await credsFor('edge', 'bbbbbbbbbbbbbbbb');
    expect(
      await obtainBusCredentials({
        ...base(client),
        join: { token: TOKEN_B, hub: 'h:1' },
        joinOnce: async () => fresh,
      }),
    ).toEqual(fresh);
    const refused = async (): Promise<BusCredentials> => {
      throw new JoinRefusedError('join token cccccccccccccccc was used already');
    };
    const tokenC = `gfj_cccccccccccccccc_${'c'.repeat(43)}`;
    expect(
      await obtainBusCredentials({ ...base(client), join: { token: tokenC, hub: 'h:1' }, joinOnce: refused }),
    ).toEqual(fresh);
  });

  it('fails with the hub refusal when there is nothing stored, and retries an unreachable hub', async () => {
    const client = memoryClient();
    await expect(
      obtainBusCredentials({
        ...base(client),
        join: { token: TOKEN_A, hub: 'h:1' },
        joinOnce: async () => {
          throw new JoinRefusedError('join token aaaaaaaaaaaaaaaa has expired');
        },
      }),
    ).rejects.toThrow(/has expired/);
    let attempts = 0;
    const joined = await obtainBusCredentials({
      ...base(client),
      join: { token: TOKEN_A, hub: 'h:1' },
      joinOnce: async () => {
        if (++attempts < 2) throw new Error('cannot join through the hub at h:1: connect ECONNREFUSED');
        return credsFor('edge', 'aaaaaaaaaaaaaaaa');
      },
    });
    expect(attempts).toBe(2);
    expect(joined?.joinTokenId).toBe('aaaaaaaaaaaaaaaa');
  });

  it('refuses stored credentials widened by hand, and connects unauthenticated without any', async () => {
    const client = memoryClient();
    const { key, jwt } = await jwtFor('edge', { publish: ['>'], subscribe: ['>'] });
    await new BusCredentialsStore(client, 'gitfleet-system', 'edge').save({
      creds: new TextDecoder().decode(fmtCreds(jwt, key)),
      natsUrls: ['nats://n:4222'],
      inboxPrefix: '_INBOX_edge',
      joinTokenId: 'aaaaaaaaaaaaaaaa',
    });
    expect(await obtainBusCredentials(base(client))).toBeUndefined();
    expect(await obtainBusCredentials(base(memoryClient()))).toBeUndefined();
  });
});
