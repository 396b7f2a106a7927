// Joining an authenticated bus: the agent makes its own NATS user key pair, sends only the public
// key with its one-time join token to the hub's JoinService, and gets back a user JWT confined to
// this cluster's subjects. The private key never leaves the agent (it is kept in a Secret of the
// agent's namespace, bus-credentials.ts). gRPC is loaded only here, only when joining.
import { readFileSync } from 'node:fs';
import { decode as decodeJwt, fmtCreds } from '@nats-io/jwt';
import { createUser } from '@nats-io/nkeys';
import { agentBusPermissions, agentInboxPrefix, controlSubject, tokenId } from '../../proto/index.js';
import { scrubSecrets } from '../../lib/redact.js';

/** How to reach the hub to join: `gitfleet agent --join TOKEN --hub ADDR [--ca F | --tls]`. */
export interface JoinTarget {
  /** host:port of the hub's gRPC API. */
  hub: string;
  /** The one-time join token ("gfj_…"). */
  token: string;
  /** A CA file to trust (the hub's own); implies TLS. */
  caFile?: string;
  /** TLS with the system's roots. */
  tls?: boolean;
}

/** What joining gives the agent: kept in the cluster and reused on every start. */
export interface BusCredentials {
  /** NATS credentials text: the user JWT and the seed of the agent's own key pair. */
  creds: string;
  natsUrls: string[];
  inboxPrefix: string;
  /** The id (public part) of the join token they came from. */
  joinTokenId: string;
}

/** The hub refused the join: trying again with the same token cannot help. */
export class JoinRefusedError extends Error {
  override readonly name = 'JoinRefusedError';
}

/** The public id of a join token, or undefined when it is not one (never echoes the token). */
export function joinTokenId(token: string): string | undefined {
  return tokenId(token, 'gfj');
}

const MAX_NATS_URLS = 16;

/**
 * Checks what the hub answered: a JWT for this key with exactly this cluster's permissions, the
 * cluster's inbox prefix, and NATS URLs. A hub (or whoever answers in its place) cannot hand the
 * agent other rights or send it to odd places unnoticed.
 */
export function checkJoinResponse(
  cluster: string,
  publicKey: string,
  res: { userJwt: string; natsUrls: string[]; inboxPrefix: string },
): void {
  let claims: ReturnType<
    typeof decodeJwt<{
      pub?: { allow?: string[] };
      sub?: { allow?: string[] };
      resp?: { max?: number; ttl?: number };
    }>
  >;
  try {
    claims = decodeJwt(res.userJwt);
  } catch (err) {
    throw new JoinRefusedError(`the hub's answer carries no valid user JWT (${(err as Error).message})`);
  }
  if (claims.sub !== publicKey) throw new JoinRefusedError("the hub's user JWT is for another key");
  const want = agentBusPermissions(cluster);
  const same = (a: string[] | undefined, b: string[]) =>
    Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);
  // credentials from before control requests lack the control subject: narrower, still accepted
  const legacySubscribe = want.subscribe.filter((s) => s !== controlSubject(cluster));
  const sub = claims.nats?.sub?.allow;
  const resp = claims.nats?.resp;
  const respOk =
    resp === undefined ||
    ((resp.max ?? 0) <= want.responses.max && (resp.ttl ?? 0) <= want.responses.ttlMs * 1_000_000);
  if (
    !same(claims.nats?.pub?.allow, want.publish) ||
    !(same(sub, want.subscribe) || same(sub, legacySubscribe)) ||
    !respOk
  ) {
    throw new JoinRefusedError(`the hub's user JWT does not carry the permissions of cluster ${cluster}`);
  }
  if (res.inboxPrefix !== agentInboxPrefix(cluster)) {
    throw new JoinRefusedError(`the hub named inbox prefix ${JSON.stringify(res.inboxPrefix.slice(0, 80))}`);
  }
  if (!Array.isArray(res.natsUrls) || res.natsUrls.length === 0 || res.natsUrls.length > MAX_NATS_URLS) {
    throw new JoinRefusedError(
      `the hub named ${res.natsUrls?.length ?? 0} NATS URLs (want 1 to ${MAX_NATS_URLS})`,
    );
  }
  for (const u of res.natsUrls) {
    if (
      typeof u !== 'string' ||
      u.length > 512 ||
      !/^(nats|tls):\/\/[^\s/@]+(:\d{1,5})?$|^[^\s/@:]+:\d{1,5}$/.test(u)
    ) {
      throw new JoinRefusedError(
        `the hub named a NATS URL that is not nats://host:port: ${JSON.stringify(scrubSecrets(String(u)).slice(0, 80))}`,
      );
    }
  }
}

/** gRPC codes the hub answers a join with that waiting does not change. */
const FINAL_CODES = new Set([
  3 /* INVALID_ARGUMENT */, 5 /* NOT_FOUND */, 7 /* PERMISSION_DENIED */, 9 /* FAILED_PRECONDITION */,
  16 /* UNAUTHENTICATED */,
]);

/**
 * One join attempt. Rejects with JoinRefusedError when the hub refused (retrying cannot help), or
 * another error when the hub could not be reached (retry later).
 */
export async function joinBus(
  cluster: string,
  target: JoinTarget,
  agentVersion: string,
  timeoutMs = 15_000,
): Promise<BusCredentials> {
  const id = joinTokenId(target.token);
  if (!id)
    throw new JoinRefusedError(
      '--join: not a join token (gfj_…); make one with `gitfleet cluster token create CLUSTER`',
    );
  const grpc = await import('@grpc/grpc-js');
  const { JoinRequest, JoinServiceClient } = await import('../../proto/api.js');
  let channel;
  if (target.caFile) {
    let ca: Buffer;
    try {
      ca = readFileSync(target.caFile);
    } catch (err) {
      throw new JoinRefusedError(
        `--ca ${target.caFile}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`,
      );
    }
    channel = grpc.credentials.createSsl(ca);
  } else channel = target.tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure();
  const key = createUser();
  const client = new JoinServiceClient(target.hub, channel);
  try {
    const res = await new Promise<{ userJwt: string; natsUrls: string[]; inboxPrefix: string }>(
      (resolve, reject) =>
        client.join(
          JoinRequest.fromPartial({
            cluster,
            token: target.token,
            publicKey: key.getPublicKey(),
            agentVersion,
          }),
          new grpc.Metadata(),
          { deadline: Date.now() + timeoutMs },
          (err, r) => (err ? reject(err) : resolve(r!)),
        ),
    );
    checkJoinResponse(cluster, key.getPublicKey(), res);
    return {
      creds: new TextDecoder().decode(fmtCreds(res.userJwt, key)),
      natsUrls: res.natsUrls,
      inboxPrefix: res.inboxPrefix,
      joinTokenId: id,
    };
  } catch (err) {
    const e = err as { code?: number; details?: string; message?: string };
    if (typeof e.code === 'number' && FINAL_CODES.has(e.code)) {
      throw new JoinRefusedError(
        `the hub at ${target.hub} refused to join cluster ${cluster}: ${e.details || e.message}`,
      );
    }
    if (err instanceof JoinRefusedError) throw err;
    throw new Error(
      `cannot join through the hub at ${target.hub}: ${scrubSecrets(e.details || e.message || String(err))}`,
      {
        cause: err,
      },
    );
  } finally {
    client.close();
  }
}
