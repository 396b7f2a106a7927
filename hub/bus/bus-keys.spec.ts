import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from '@nats-io/jwt';
import { createAccount, createOperator, createUser } from '@nats-io/nkeys';
import { agentBusPermissions } from '../../proto/index.js';
import {
  agentUserJwt,
  gitfleetAccountJwt,
  initBus,
  isUserPublicKey,
  parseBusKeys,
  readBusKeys,
} from './bus-keys.js';

const dir = mkdtempSync(join(tmpdir(), 'gitfleet-bus-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = (kp: { getSeed(): Uint8Array }) => new TextDecoder().decode(kp.getSeed());

describe('bus init', () => {
  it('writes the files, the secrets readable by their owner only', async () => {
    const out = await initBus({ dir: join(dir, 'a'), listen: '127.0.0.1:4333', dataDir: join(dir, 'data') });
    for (const f of [out.hubCreds, out.busKeys, out.rootKeys]) expect(statSync(f).mode & 0o777).toBe(0o600);
    const conf = readFileSync(out.natsConf, 'utf8');
    expect(conf).toContain('listen: "127.0.0.1:4333"');
    expect(conf).toContain(`store_dir: ${JSON.stringify(join(dir, 'data', 'jetstream'))}`);
    expect(conf).toMatch(/resolver: \{\n {2}type: full/);
    // no seed in the server's configuration: only JWTs and public keys
    expect(conf).not.toMatch(/\bS[OAU][A-Z2-7]{50,}/);
    const keys = readBusKeys(out.busKeys);
    expect(readFileSync(out.hubCreds, 'utf8')).toContain('BEGIN NATS USER JWT');
    expect(JSON.parse(readFileSync(out.rootKeys, 'utf8')).operator).toMatch(/^SO/);
    // the account JWT in nats.conf is the one the hub would sign (without revocations)
    const account = decode<{ signing_keys: string[] }>(await gitfleetAccountJwt(keys));
    expect(conf).toContain(account.sub);
    expect(account.nats.signing_keys).toHaveLength(1);
  });

  it.each([
    ['a path with a quote', { dir: join(dir, 'x"y') }, /quotes, backslashes or newlines/],
    ['a listen address with a space', { dir: join(dir, 'b'), listen: 'a b:1' }, /expected host:port/],
    ['a port out of range', { dir: join(dir, 'c'), listen: '0.0.0.0:70000' }, /expected host:port/],
    [
      'a listen address that closes the string',
      { dir: join(dir, 'd'), listen: '"}:1' },
      /expected host:port/,
    ],
  ])('refuses %s', async (_what, opts, message) => {
    await expect(initBus(opts)).rejects.toThrow(message);
  });
});

describe('bus keys', () => {
  it('issues an agent exactly its cluster permissions, as a user of the gitfleet account', async () => {
    const out = await initBus({ dir: join(dir, 'e') });
    const keys = readBusKeys(out.busKeys);
    const user = createUser();
    const claims = decode<{
      pub: { allow: string[] };
      sub: { allow: string[] };
      resp: { max: number; ttl: number };
      issuer_account: string;
    }>(await agentUserJwt(keys, 'edge-1', user.getPublicKey()));
    expect(claims.sub).toBe(user.getPublicKey());
    expect(claims.nats.issuer_account).toBe(keys.account);
    expect(claims.nats.pub!.allow).toEqual(agentBusPermissions('edge-1').publish);
    expect(claims.nats.sub!.allow).toEqual(agentBusPermissions('edge-1').subscribe);
    // one answer per control request, within the longest control timeout (a Go duration, ns)
    expect(claims.nats.resp).toEqual({ max: 1, ttl: 600_000 * 1_000_000 });
    await expect(agentUserJwt(keys, 'edge-1', createAccount().getPublicKey())).rejects.toThrow(
      /starting with U/,
    );
    await expect(agentUserJwt(keys, 'edge.1', user.getPublicKey())).rejects.toThrow(/invalid cluster name/);
    const revoked = decode<{ revocations: Record<string, number> }>(
      await gitfleetAccountJwt(keys, { [user.getPublicKey()]: 5 }),
    );
    expect(revoked.nats.revocations).toEqual({ [user.getPublicKey()]: 5 });
  });

  it('tells user keys from everything else', () => {
    expect(isUserPublicKey(createUser().getPublicKey())).toBe(true);
    for (const k of [createAccount().getPublicKey(), seed(createUser()), '', 'U'.repeat(56), 42, undefined]) {
      expect(isUserPublicKey(k)).toBe(false);
    }
  });

  const valid = () => ({
    version: 1,
    operatorSigningSeed: seed(createOperator()),
    account: createAccount().getPublicKey(),
    accountSigningSeed: seed(createAccount()),
    systemAccount: createAccount().getPublicKey(),
    systemUserCreds: '-----BEGIN NATS USER JWT-----\nx\n------END NATS USER JWT------',
  });

  it.each([
    ['not JSON', () => 'nope', /not JSON/],
    ['another version', () => JSON.stringify({ ...valid(), version: 2 }), /version 1/],
    [
      'a user seed as the operator key',
      () => JSON.stringify({ ...valid(), operatorSigningSeed: seed(createUser()) }),
      /operatorSigningSeed must be a seed starting with SO/,
    ],
    [
      'a broken seed',
      () => JSON.stringify({ ...valid(), accountSigningSeed: 'SA' + 'A'.repeat(56) }),
      /accountSigningSeed is not a valid seed/,
    ],
    [
      'a seed as the account',
      () => JSON.stringify({ ...valid(), account: seed(createAccount()) }),
      /account must be a public key/,
    ],
    ['no system user', () => JSON.stringify({ ...valid(), systemUserCreds: '' }), /systemUserCreds/],
  ])('refuses a keys file with %s, never echoing a seed', (_what, text, message) => {
    const t = text();
    let err: Error | undefined;
    try {
      parseBusKeys(t, 'keys.json');
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toMatch(message);
    expect(err?.message).toMatch(/^keys\.json: /);
    expect(err?.message).not.toMatch(/S[OAU][A-Z2-7]{50,}/);
  });
});
