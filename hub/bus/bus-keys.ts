// The bus's trust chain (NATS decentralized authentication): an operator, a system account, and
// the gitfleet account every hub and agent user belongs to. `gitfleet bus init` makes the keys and
// the server configuration; the hub keeps only signing keys (the identity keys stay offline) and
// uses them to issue each agent's user JWT and to re-sign the account JWT with revocations.
//
// Files of `bus init --dir D`:
//   nats.conf       server configuration (operator JWT, full resolver, preloaded accounts, JetStream)
//   hub.creds       the hub's NATS user (JWT + seed), for `gitfleet hub --nats-creds`
//   bus-keys.json   what the hub signs with (operator and account signing keys, the system user)
//   root-keys.json  identity seeds of operator and accounts: keep them offline; gitfleet never reads them
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { encodeAccount, encodeOperator, encodeUser, fmtCreds, type Account } from '@nats-io/jwt';
import {
  createAccount,
  createOperator,
  createUser,
  fromPublic,
  fromSeed,
  type KeyPair,
} from '@nats-io/nkeys';
import { agentBusPermissions, type AgentBusPermissions } from '../../proto/index.js';

export const GITFLEET_ACCOUNT = 'gitfleet';
export const SYSTEM_ACCOUNT = 'SYS';
export const BUS_KEYS_FILE = 'bus-keys.json';
export const HUB_CREDS_FILE = 'hub.creds';
export const NATS_CONF_FILE = 'nats.conf';
export const ROOT_KEYS_FILE = 'root-keys.json';

/** What the hub signs with: bus-keys.json. Seeds are secrets (mode 0600). */
export interface BusKeys {
  version: 1;
  /** Operator signing key seed ("SO…"): re-signs the gitfleet account JWT (revocations). */
  operatorSigningSeed: string;
  /** The gitfleet account's public key ("A…"). */
  account: string;
  /** The gitfleet account's signing key seed ("SA…"): issues hub and agent user JWTs. */
  accountSigningSeed: string;
  /** The system account's public key. */
  systemAccount: string;
  /** Credentials of a system-account user: sends account updates to the servers. */
  systemUserCreds: string;
}

export class BusKeysError extends Error {
  override readonly name = 'BusKeysError';
}

const td = new TextDecoder();
const seedText = (kp: KeyPair): string => td.decode(kp.getSeed());

function keyFromSeed(field: string, seed: unknown, prefix: string): KeyPair {
  if (typeof seed !== 'string' || !seed.startsWith(prefix)) {
    throw new BusKeysError(`${field} must be a seed starting with ${prefix}`);
  }
  try {
    return fromSeed(new TextEncoder().encode(seed));
  } catch (err) {
    throw new BusKeysError(`${field} is not a valid seed (${(err as Error).message})`);
  }
}

function publicKey(field: string, key: unknown, prefix: 'A' | 'O' | 'U'): string {
  if (typeof key !== 'string' || !key.startsWith(prefix)) {
    throw new BusKeysError(`${field} must be a public key starting with ${prefix}`);
  }
  try {
    fromPublic(key);
  } catch (err) {
    throw new BusKeysError(`${field} is not a valid public key (${(err as Error).message})`);
  }
  return key;
}

/** Is this a NATS user public key ("U…", valid checksum)? */
export function isUserPublicKey(key: unknown): key is string {
  if (typeof key !== 'string' || key.length !== 56 || !key.startsWith('U')) return false;
  try {
    fromPublic(key);
    return true;
  } catch {
    return false;
  }
}

/** Parses and checks bus-keys.json's content. */
export function parseBusKeys(text: string, file = BUS_KEYS_FILE): BusKeys {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new BusKeysError(`${file}: not JSON (${(err as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || raw.version !== 1) {
    throw new BusKeysError(`${file}: expected a bus keys file of version 1 (made by \`gitfleet bus init\`)`);
  }
  try {
    keyFromSeed('operatorSigningSeed', raw.operatorSigningSeed, 'SO');
    keyFromSeed('accountSigningSeed', raw.accountSigningSeed, 'SA');
    publicKey('account', raw.account, 'A');
    publicKey('systemAccount', raw.systemAccount, 'A');
    if (typeof raw.systemUserCreds !== 'string' || !raw.systemUserCreds.includes('NATS USER JWT')) {
      throw new BusKeysError('systemUserCreds must be a NATS credentials text');
    }
  } catch (err) {
    throw new BusKeysError(`${file}: ${(err as Error).message}`);
  }
  return raw as unknown as BusKeys;
}

export function readBusKeys(file: string): BusKeys {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new BusKeysError(
      `${file}: cannot read the bus keys (${(err as NodeJS.ErrnoException).code ?? err}); \`gitfleet bus init --dir D\` writes them`,
    );
  }
  return parseBusKeys(text, file);
}

/** Unlimited account limits: NATS's defaults for an account JWT without them are zero. */
const UNLIMITED = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
};
const JETSTREAM_UNLIMITED = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };

/**
 * The gitfleet account JWT, signed with the operator signing key. `revocations` maps user public
 * keys to the unix time (seconds) before which their JWTs are void: how an agent is cut off.
 */
export async function gitfleetAccountJwt(
  keys: BusKeys,
  revocations: Record<string, number> = {},
): Promise<string> {
  const signer = keyFromSeed('operatorSigningSeed', keys.operatorSigningSeed, 'SO');
  const signing = keyFromSeed('accountSigningSeed', keys.accountSigningSeed, 'SA');
  const account: Partial<Account> = {
    limits: { ...UNLIMITED, ...JETSTREAM_UNLIMITED },
    signing_keys: [signing.getPublicKey()],
  };
  if (Object.keys(revocations).length > 0) account.revocations = { ...revocations };
  return encodeAccount(GITFLEET_ACCOUNT, keys.account, account, { signer });
}

/** A user JWT of the gitfleet account, signed with the account signing key. */
async function gitfleetUserJwt(
  keys: BusKeys,
  name: string,
  userPublicKey: string,
  permissions: Omit<AgentBusPermissions, 'responses'> & Partial<Pick<AgentBusPermissions, 'responses'>>,
): Promise<string> {
  const signer = keyFromSeed('accountSigningSeed', keys.accountSigningSeed, 'SA');
  const { responses } = permissions;
  return encodeUser(
    name,
    publicKey('user public key', userPublicKey, 'U'),
    keys.account,
    {
      pub: { allow: permissions.publish },
      sub: { allow: permissions.subscribe },
      // NATS allow_responses: the JWT's ttl is a Go duration, in nanoseconds
      ...(responses && { resp: { max: responses.max, ttl: responses.ttlMs * 1_000_000 } }),
    },
    { signer },
  );
}

/** The user JWT of a cluster's agent: only its own key, status subjects and inbox (agentBusPermissions). */
export async function agentUserJwt(keys: BusKeys, cluster: string, userPublicKey: string): Promise<string> {
  return gitfleetUserJwt(keys, `agent-${cluster}`, userPublicKey, agentBusPermissions(cluster));
}

/** Credentials text (JWT + seed) of a new hub user: every subject of the gitfleet account. */
export async function hubUserCreds(keys: BusKeys, name = 'hub'): Promise<string> {
  const user = createUser();
  const jwt = await gitfleetUserJwt(keys, name, user.getPublicKey(), { publish: ['>'], subscribe: ['>'] });
  return td.decode(fmtCreds(jwt, user));
}

export interface BusInitOptions {
  /** Where the files go (created if missing). */
  dir: string;
  /** host:port nats-server listens on (default 0.0.0.0:4222). */
  listen?: string;
  /** Where nats-server keeps JetStream and account JWTs (default: dir). */
  dataDir?: string;
  /** Replace files that exist (default: refuse). */
  force?: boolean;
}

export interface BusInitResult {
  natsConf: string;
  hubCreds: string;
  busKeys: string;
  rootKeys: string;
}

function writeSecret(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** A quoted string for nats.conf. */
function q(s: string): string {
  return JSON.stringify(s);
}

/**
 * `gitfleet bus init`: new operator, system account and gitfleet account; writes nats.conf, the
 * hub's credentials, the hub's signing keys and (to keep offline) the identity seeds.
 */
export async function initBus(opts: BusInitOptions): Promise<BusInitResult> {
  const dir = resolve(opts.dir);
  const dataDir = resolve(opts.dataDir ?? dir);
  const listen = opts.listen ?? '0.0.0.0:4222';
  if (!/^[^\s:"]+:\d{1,5}$/.test(listen) || Number(listen.split(':')[1]) > 65535) {
    throw new BusKeysError(`--listen ${JSON.stringify(listen)}: expected host:port`);
  }
  for (const d of [dir, dataDir]) {
    if (/["\\\n\r]/.test(d))
      throw new BusKeysError(`${JSON.stringify(d)}: quotes, backslashes or newlines in the path`);
  }
  const out: BusInitResult = {
    natsConf: join(dir, NATS_CONF_FILE),
    hubCreds: join(dir, HUB_CREDS_FILE),
    busKeys: join(dir, BUS_KEYS_FILE),
    rootKeys: join(dir, ROOT_KEYS_FILE),
  };
  if (!opts.force) {
    const existing = Object.values(out).filter((f) => existsSync(f));
    if (existing.length > 0) {
      throw new BusKeysError(
        `${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}: a new bus would orphan every agent's credentials; pass --force to replace them`,
      );
    }
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  const operator = createOperator();
  const operatorSigning = createOperator();
  const system = createAccount();
  const account = createAccount();
  const accountSigning = createAccount();
  const systemUser = createUser();

  const operatorJwt = await encodeOperator('gitfleet', operator, {
    signing_keys: [operatorSigning.getPublicKey()],
    system_account: system.getPublicKey(),
  });
  const systemJwt = await encodeAccount(
    SYSTEM_ACCOUNT,
    system.getPublicKey(),
    { limits: { ...UNLIMITED } },
    { signer: operatorSigning },
  );
  const systemUserJwt = await encodeUser('gitfleet-system', systemUser, system);
  const keys: BusKeys = {
    version: 1,
    operatorSigningSeed: seedText(operatorSigning),
    account: account.getPublicKey(),
    accountSigningSeed: seedText(accountSigning),
    systemAccount: system.getPublicKey(),
    systemUserCreds: td.decode(fmtCreds(systemUserJwt, systemUser)),
  };
  const accountJwt = await gitfleetAccountJwt(keys);

  const conf = [
    '# nats-server configuration written by `gitfleet bus init`: decentralized authentication',
    "# (operator -> accounts -> users). Anonymous clients are refused; the hub signs each agent's",
    '# user JWT. Start with: nats-server -c ' + out.natsConf,
    `listen: ${q(listen)}`,
    'jetstream {',
    `  store_dir: ${q(join(dataDir, 'jetstream'))}`,
    '}',
    `operator: ${q(operatorJwt)}`,
    `system_account: ${q(system.getPublicKey())}`,
    '# account JWTs as the hub updates them (revocations) are kept here across restarts',
    'resolver: {',
    '  type: full',
    `  dir: ${q(join(dataDir, 'jwt'))}`,
    '  allow_delete: false',
    '  interval: "2m"',
    '}',
    'resolver_preload: {',
    `  ${system.getPublicKey()}: ${q(systemJwt)}`,
    `  ${account.getPublicKey()}: ${q(accountJwt)}`,
    '}',
    '',
  ].join('\n');

  writeFileSync(out.natsConf, conf, { mode: 0o644 });
  writeSecret(out.busKeys, JSON.stringify(keys, null, 2) + '\n');
  writeSecret(out.hubCreds, await hubUserCreds(keys));
  writeSecret(
    out.rootKeys,
    JSON.stringify(
      {
        note: 'identity seeds of the bus: keep offline; gitfleet never reads this file',
        operator: seedText(operator),
        systemAccount: seedText(system),
        account: seedText(account),
      },
      null,
      2,
    ) + '\n',
  );
  return out;
}
