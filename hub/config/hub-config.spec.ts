import { afterAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBus } from '../bus/bus-keys.js';
import { ConfigError, isLoopback, parseHubConfig } from './hub-config.js';

const ok = { listen: '127.0.0.1:0', natsUrl: 'nats://127.0.0.1:4222', db: ':memory:' };

describe('parseHubConfig', () => {
  it('parses a minimal config', () => {
    expect(parseHubConfig({ ...ok, logLevel: 'warn' })).toEqual({
      listen: { host: '127.0.0.1', port: 0 },
      natsServers: ['nats://127.0.0.1:4222'],
      db: { kind: 'sqlite', path: ':memory:' },
      resolveIntervalSeconds: undefined,
      logLevel: 'warn',
      tls: undefined,
      adminToken: undefined,
      tenantClusterRoles: ['admin', 'edit', 'view'],
      secretKey: { kind: 'ephemeral' },
      oldSecretKeys: [],
      adoptBus: false,
      busCheckIntervalSeconds: 15,
      clusterOfflineAfterSeconds: 90,
      maxConcurrentFetch: 0,
      busAuth: undefined,
      agentNatsServers: ['nats://127.0.0.1:4222'],
      webhookListen: undefined,
    });
  });

  it('parses the webhook listener address, port 0 included', () => {
    expect(parseHubConfig({ ...ok, webhookListen: '0.0.0.0:0' }).webhookListen).toEqual({
      host: '0.0.0.0',
      port: 0,
    });
  });

  it('accepts IPv6, several NATS servers, postgres URLs and a resolve interval', () => {
    const c = parseHubConfig({
      listen: '[::1]:50051',
      natsUrl: 'nats://a:4222, 127.0.0.1:4223',
      db: 'postgres://hub@db/gitfleet',
      resolveIntervalSeconds: 0.5,
    });
    expect(c.listen).toEqual({ host: '::1', port: 50051 });
    expect(c.natsServers).toEqual(['nats://a:4222', '127.0.0.1:4223']);
    expect(c.db).toEqual({ kind: 'postgres', url: 'postgres://hub@db/gitfleet' });
    expect(c.resolveIntervalSeconds).toBe(0.5);
  });

  it.each([
    [{ ...ok, listen: '' }, 'invalid hub config: listen: required'],
    [{ ...ok, listen: '127.0.0.1' }, 'listen: "127.0.0.1" is not "host:port"'],
    [{ ...ok, listen: 'localhost:70000' }, 'listen: port 70000 is out of range'],
    [{ ...ok, webhookListen: '' }, 'invalid hub config: webhookListen: required'],
    [{ ...ok, webhookListen: ':8080' }, 'webhookListen: ":8080" is not "host:port"'],
    [{ ...ok, webhookListen: '0.0.0.0:99999' }, 'webhookListen: port 99999 is out of range'],
    [{ ...ok, natsUrl: '' }, 'natsUrl: required'],
    [{ ...ok, natsUrl: 'http://x:1' }, 'natsUrl: "http://x:1": want nats://host:port'],
    [{ ...ok, natsUrl: 'http://bot:s3cret@x:1' }, 'natsUrl: "http://x:1": want nats://host:port'],
    [{ ...ok, db: '' }, 'db: required'],
    [{ ...ok, db: 'mysql://u:secret@x/db' }, 'db: unsupported database URL scheme in "mysql://x/db"'],
    [{ ...ok, db: '/no/such/dir/hub.db' }, 'db: directory /no/such/dir of the SQLite file does not exist'],
    [{ ...ok, resolveIntervalSeconds: 0 }, 'resolveIntervalSeconds: must be a positive number'],
    [{ ...ok, logLevel: 'loud' }, 'logLevel: "loud" is not one of'],
    [{ ...ok, tenantClusterRoles: [] }, 'tenantClusterRoles: at least one cluster role is required'],
    [
      { ...ok, tenantClusterRoles: ['edit', 'cluster-admin'] },
      'tenantClusterRoles: "cluster-admin" is never granted',
    ],
    [
      { ...ok, tenantClusterRoles: ['system:aggregate-to-admin'] },
      'tenantClusterRoles: "system:aggregate-to-admin": system:*',
    ],
    [
      { ...ok, tenantClusterRoles: ['ad\u0000min'] },
      'tenantClusterRoles: "ad\\u0000min" contains a control character',
    ],
  ])('rejects %j', (config, message) => {
    expect(() => parseHubConfig(config)).toThrow(ConfigError);
    expect(() => parseHubConfig(config)).toThrow(message);
  });

  it('puts the default secret key beside the SQLite file and checks given key files once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gitfleet-hub-config-'));
    try {
      expect(parseHubConfig({ ...ok, db: join(dir, 'hub.db') }).secretKey).toEqual({
        kind: 'default',
        path: join(dir, 'hub.db.key'),
      });
      const loose = join(dir, 'loose.key');
      writeFileSync(loose, 'a'.repeat(64), { mode: 0o644 });
      chmodSync(loose, 0o644);
      expect(() => parseHubConfig({ ...ok, secretKeyFile: loose })).toThrow(
        'invalid hub config: secretKeyFile: ',
      );
      expect(() => parseHubConfig({ ...ok, oldSecretKeyFile: loose })).toThrow('give secretKeyFile as well');
      expect(() => parseHubConfig({ ...ok, busCheckIntervalSeconds: 0 })).toThrow('busCheckIntervalSeconds');
      for (const bad of [0, -5, Number.NaN, '90' as unknown as number])
        expect(() => parseHubConfig({ ...ok, clusterOfflineAfterSeconds: bad })).toThrow(
          'clusterOfflineAfterSeconds: must be a positive number of seconds',
        );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['localhost', true],
    ['0.0.0.0', false],
    ['10.1.2.3', false],
    ['::', false],
    ['hub.example.com', false],
    ['127.0.0.1.example.com', false],
  ])('treats %s as loopback: %s', (host, loopback) => {
    expect(isLoopback(host)).toBe(loopback);
  });

  it('serves plaintext only on loopback unless insecure', () => {
    expect(parseHubConfig({ ...ok, listen: '[::1]:7400' }).tls).toBeUndefined();
    expect(() => parseHubConfig({ ...ok, listen: '0.0.0.0:7400' })).toThrow(
      'listen: serving the API in plaintext on 0.0.0.0',
    );
    expect(parseHubConfig({ ...ok, listen: '0.0.0.0:7400', insecure: true }).tls).toBeUndefined();
  });
});

it('never echoes the password of a bad NATS URL', () => {
  for (const natsUrl of ['http://bot:s3cret@x:1', 'nats://bot:s3cret@[::1']) {
    expect(() => parseHubConfig({ ...ok, natsUrl })).toThrow(ConfigError);
    try {
      parseHubConfig({ ...ok, natsUrl });
    } catch (err) {
      expect((err as Error).message).not.toContain('s3cret');
    }
  }
});

describe('bus authentication settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gitfleet-bus-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the credentials and the signing keys beside them, and hands agents their own URL', async () => {
    const bus = await initBus({ dir: join(dir, 'one') });
    const c = parseHubConfig({
      ...ok,
      natsCredsFile: bus.hubCreds,
      agentNatsUrl: 'nats://nats.example:4222',
    });
    expect(c.busAuth?.keysFile).toBe(bus.busKeys);
    expect(c.busAuth?.keys.account).toMatch(/^A/);
    expect(c.agentNatsServers).toEqual(['nats://nats.example:4222']);
    // by default agents get the hub's servers, never the hub's own NATS user or password
    expect(parseHubConfig({ ...ok, natsUrl: 'nats://hub:s3cret@n1:4222,n2:4222' }).agentNatsServers).toEqual([
      'nats://n1:4222',
      'n2:4222',
    ]);
    expect(() =>
      parseHubConfig({ ...ok, natsCredsFile: bus.hubCreds, agentNatsUrl: 'nats://u:pw@h:4222' }),
    ).toThrow(/agentNatsUrl: must not carry a user or password/);
  });

  it('refuses credentials of another bus, files others can read, and keys without credentials', async () => {
    const one = await initBus({ dir: join(dir, 'a') });
    const two = await initBus({ dir: join(dir, 'b') });
    expect(() => parseHubConfig({ ...ok, natsCredsFile: one.hubCreds, busKeysFile: two.busKeys })).toThrow(
      /same `gitfleet bus init`/,
    );
    chmodSync(one.hubCreds, 0o644);
    expect(() => parseHubConfig({ ...ok, natsCredsFile: one.hubCreds })).toThrow(
      /readable by every user: chmod 600/,
    );
    chmodSync(one.hubCreds, 0o640);
    expect(parseHubConfig({ ...ok, natsCredsFile: one.hubCreds }).busAuth).toBeDefined();
    expect(() => parseHubConfig({ ...ok, busKeysFile: one.busKeys })).toThrow(/without natsCredsFile/);
    expect(() => parseHubConfig({ ...ok, natsCredsFile: join(dir, 'missing.creds') })).toThrow(
      /natsCredsFile: cannot read .*ENOENT/,
    );
    const notCreds = join(dir, 'not.creds');
    writeFileSync(notCreds, 'hello', { mode: 0o600 });
    expect(() => parseHubConfig({ ...ok, natsCredsFile: notCreds })).toThrow(/not a NATS credentials file/);
  });

  it('refuses to overwrite an earlier bus unless forced', async () => {
    const d = join(dir, 'again');
    await initBus({ dir: d });
    await expect(initBus({ dir: d })).rejects.toThrow(/already exist.*--force/);
    await expect(initBus({ dir: d, force: true })).resolves.toBeDefined();
    await expect(initBus({ dir: join(dir, 'x'), listen: 'a b:1' })).rejects.toThrow(/expected host:port/);
  });
});
