// Webhook receivers against a real git server: a signed push resolves the tenant's matching repo
// at once (the hub's own resolution interval is an hour here, so only the webhook can explain a
// new revision), bad or missing signatures change nothing, replays are answered without work,
// another tenant's repo with the same URL is never touched, and the secret never shows.
import fs, { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { createHubClient, type HubClient } from '../../../cli/client/hub-client.js';
import {
  genericCall,
  githubPush,
  gitlabPush,
  postWebhook,
  startGit,
  startNats,
  type GitEnv,
  type GitRepo,
  type NatsEnv,
} from '../../env/index.js';
import { startHub } from '../../../hub/main.js';
import { eventually, grpcError, startTestHub, tempDir, type TestHub } from './harness.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dist', 'cli', 'main.js');

// the real writes, taken before the spies below replace them
const realWriteSync = fs.writeSync.bind(fs) as (...a: unknown[]) => number;
const realWrite = fs.write.bind(fs) as (...a: unknown[]) => void;

describe('webhook receivers', () => {
  let nats: NatsEnv | undefined;
  let git: GitEnv | undefined;
  let t: TestHub | undefined;
  let app: GitRepo;
  let webhooks = '';
  const tmp = tempDir('gitfleet-hub-webhooks-');
  const clients: HubClient[] = [];
  const as = (token: string): HubClient => {
    const c = createHubClient(t!.hub.address, { deadlineMs: 10_000, token });
    clients.push(c);
    return c;
  };
  // what the hub logs (pino writes to fd 2 directly): the secrets must never be in it
  let logged = '';
  const capture = (fd: unknown, data: unknown) => {
    if (fd === 2) logged += typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString();
  };
  const writeSync = jest.spyOn(fs, 'writeSync');
  const write = jest.spyOn(fs, 'write');

  beforeAll(async () => {
    // the hub's log lines are kept here and shown only when GITFLEET_LOG_LEVEL asks for logs
    const quiet = (fd: unknown, data: unknown) =>
      fd === 2 && !process.env.GITFLEET_LOG_LEVEL && String(data).includes('"name":"gitfleet-hub"');
    writeSync.mockImplementation(((...a: unknown[]) => {
      capture(a[0], a[1]);
      return quiet(a[0], a[1]) ? Buffer.byteLength(String(a[1])) : realWriteSync(...a);
    }) as never);
    write.mockImplementation(((...a: unknown[]) => {
      capture(a[0], a[1]);
      const done = a[a.length - 1];
      if (quiet(a[0], a[1]) && typeof done === 'function')
        return void process.nextTick(() =>
          (done as (e: null, n: number) => void)(null, Buffer.byteLength(String(a[1]))),
        );
      return realWrite(...a);
    }) as never);
    nats = await startNats();
    git = await startGit();
    t = await startTestHub({
      natsUrl: nats.url,
      db: `${tmp.dir}/hub.db`,
      resolveIntervalSeconds: 3600,
      webhookListen: '127.0.0.1:0',
      logLevel: 'debug',
    });
    webhooks = t.hub.webhookAddress!;
    for (const name of ['team-a', 'team-b'])
      await t.client.tenants.createTenant({ tenant: { name, namespaces: [name] } });
    app = await git.createRepo('app', { 'deploy/a.yaml': 'a: 1\n' });
    await t.client.repos.createRepo({ repo: { tenant: 'team-a', name: 'app', url: app.url } });
    // another tenant follows the very same repository
    await t.client.repos.createRepo({ repo: { tenant: 'team-b', name: 'app', url: app.url } });
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await t?.stop();
    await git?.stop();
    await nats?.destroy();
    writeSync.mockRestore();
    write.mockRestore();
    tmp.remove();
  });

  const repo = (tenant: string, name = 'app') => t!.client.repos.getRepo({ tenant, name });

  it('reports where it listens; answers 404 to anything but POST /hook/<id>, without internals', async () => {
    expect(webhooks).toMatch(/^127\.0\.0\.1:\d+$/);
    const any = { headers: {}, body: Buffer.from('{}') };
    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/hook/0123456789abcdef0123456789abcdef01234567'],
      ['POST', '/hooks/x'],
      ['POST', '/hook/'],
      ['POST', '/hook/../../etc/passwd'],
      ['POST', '/hook/0123456789abcdef0123456789abcdef01234567'],
      ['POST', `/hook/${'x'.repeat(5000)}`],
    ]) {
      const res = await postWebhook(webhooks, path, any, method);
      expect([method, path.slice(0, 60), res.status, res.text]).toEqual([
        method,
        path.slice(0, 60),
        404,
        'not found\n',
      ]);
    }
  });

  it('creates receivers with a generated secret shown once, or a given one; never returns it again', async () => {
    const { receivers } = t!.client;
    const created = await receivers.createReceiver({
      receiver: { tenant: 'team-a', name: 'gh', type: 'github' },
    });
    expect(created.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.receiver).toMatchObject({
      tenant: 'team-a',
      name: 'gh',
      type: 'github',
      repos: [],
      lastDeliveryAtMs: 0,
    });
    expect(created.receiver!.path).toMatch(/^\/hook\/[0-9a-f]{40}$/);
    const given = 'given-secret-0123456789';
    const gl = await receivers.createReceiver({
      receiver: { tenant: 'team-a', name: 'gl', type: 'gitlab' },
      secret: given,
    });
    expect(gl.secret).toBe('');
    expect(gl.receiver!.path).not.toBe(created.receiver!.path);
    const shown = JSON.stringify([
      await receivers.getReceiver({ tenant: 'team-a', name: 'gh' }),
      await receivers.listReceivers({}),
      await t!.client.audit.listAudit({}),
    ]);
    for (const s of [created.secret, given]) expect(shown).not.toContain(s);
    expect(shown).toContain('receiver team-a/gh');
    await receivers.deleteReceiver({ tenant: 'team-a', name: 'gl' });
  });

  it('refuses bad receivers naming the field, creating nothing', async () => {
    const { receivers } = t!.client;
    const before = (await receivers.listReceivers({})).receivers.length;
    const cases: Array<[Parameters<typeof receivers.createReceiver>[0], string]> = [
      [
        { receiver: { tenant: 'team-a', name: 'x', type: 'bitbucket' } },
        'receiver.type: "bitbucket" is not a receiver type: use one of github, gitlab, generic',
      ],
      [
        { receiver: { tenant: 'team-a', name: 'x', type: 'github', repos: ['nope'] } },
        'receiver.repos[0]: repo "team-a/nope" does not exist: create it first',
      ],
      [
        { receiver: { tenant: 'team-a', name: 'x', type: 'github', repos: ['team-b/app'] } },
        'receiver.repos[0]: "team-b/app": name a repo of the receiver\'s tenant',
      ],
      [
        { receiver: { tenant: 'team-a', name: 'x', type: 'github' }, secret: 'short' },
        'secret: must be 16 to 256 characters, got 5',
      ],
      [
        { receiver: { tenant: 'team-a', name: 'x', type: 'github' }, secret: 'a\nb'.repeat(10) },
        'secret: must be printable ASCII',
      ],
      [{ receiver: { tenant: 'team-a', name: 'Bad Name', type: 'github' } }, 'receiver.name'],
      [{ receiver: { tenant: 'nobody', name: 'x', type: 'github' } }, 'tenant "nobody" not found'],
    ];
    for (const [request, message] of cases) {
      const err = await grpcError(receivers.createReceiver(request));
      expect(err.details).toContain(message);
      expect(err.details).not.toContain('a\nb');
    }
    const dup = await grpcError(
      receivers.createReceiver({ receiver: { tenant: 'team-a', name: 'gh', type: 'generic' } }),
    );
    expect([dup.code, dup.details]).toEqual([
      GrpcStatus.ALREADY_EXISTS,
      'receiver "team-a/gh" already exists',
    ]);
    expect((await receivers.listReceivers({})).receivers.length).toBe(before);
  });

  it('lets a tenant manage its own receivers only; viewers read', async () => {
    const { tokens, receivers } = t!.client;
    const own = as((await tokens.createToken({ role: 'tenant', tenant: 'team-a' })).secret);
    const other = as((await tokens.createToken({ role: 'tenant', tenant: 'team-b' })).secret);
    const viewer = as((await tokens.createToken({ role: 'viewer' })).secret);
    const b = await other.receivers.createReceiver({
      receiver: { tenant: 'team-b', name: 'hook', type: 'generic' },
    });
    expect(b.secret).not.toBe('');
    const ref = { tenant: 'team-b', name: 'hook' };
    for (const call of [
      own.receivers.getReceiver(ref),
      own.receivers.deleteReceiver(ref),
      own.receivers.listReceivers({ tenant: 'team-b' }),
      own.receivers.createReceiver({ receiver: { tenant: 'team-b', name: 'x', type: 'generic' } }),
      viewer.receivers.createReceiver({ receiver: { tenant: 'team-a', name: 'x', type: 'generic' } }),
      viewer.receivers.deleteReceiver(ref),
    ])
      expect((await grpcError(call)).code).toBe(GrpcStatus.PERMISSION_DENIED);
    expect((await own.receivers.listReceivers({})).receivers.map((r) => `${r.tenant}/${r.name}`)).toEqual([
      'team-a/gh',
    ]);
    expect((await viewer.receivers.listReceivers({})).receivers.map((r) => `${r.tenant}/${r.name}`)).toEqual([
      'team-a/gh',
      'team-b/hook',
    ]);
    expect((await receivers.getReceiver(ref)).name).toBe('hook');
    await other.receivers.deleteReceiver(ref);
    expect((await grpcError(receivers.getReceiver(ref))).code).toBe(GrpcStatus.NOT_FOUND);
  });

  describe('deliveries', () => {
    let gh: { path: string; secret: string };

    beforeAll(async () => {
      const { receivers } = t!.client;
      await receivers.deleteReceiver({ tenant: 'team-a', name: 'gh' });
      const r = await receivers.createReceiver({
        receiver: { tenant: 'team-a', name: 'gh', type: 'github' },
      });
      gh = { path: r.receiver!.path, secret: r.secret };
    });

    it('GitHub: ping answers pong, other events are ignored, both resolve nothing', async () => {
      const before = await repo('team-a');
      const ping = await postWebhook(webhooks, gh.path, githubPush(gh.secret, app.url, { event: 'ping' }));
      expect([ping.status, ping.text]).toEqual([200, 'pong\n']);
      const issues = await postWebhook(
        webhooks,
        gh.path,
        githubPush(gh.secret, app.url, { event: 'issues' }),
      );
      expect([issues.status, issues.text]).toEqual([
        200,
        'ignored event "issues": only pushes trigger a resolution\n',
      ]);
      expect((await repo('team-a')).resolvedAtMs).toBe(before.resolvedAtMs);
    });

    it("GitHub: a signed push resolves the tenant's repo of that URL at once, never another tenant's", async () => {
      const other = await repo('team-b');
      const next = await app.commit({ 'deploy/a.yaml': 'a: 2\n' });
      const res = await postWebhook(webhooks, gh.path, githubPush(gh.secret, app.url, { after: next }));
      expect([res.status, res.text]).toEqual([202, 'accepted: resolving repo app\n']);
      await eventually(async () => (await repo('team-a')).revision === `main@sha1:${next}`);
      await eventually(async () =>
        (await t!.client.receivers.getReceiver({ tenant: 'team-a', name: 'gh' })).lastDelivery ===
        'accepted: resolved repo app'
          ? true
          : undefined,
      );
      const b = await repo('team-b');
      expect([b.revision, b.resolvedAtMs]).toEqual([other.revision, other.resolvedAtMs]);
    });

    it('refuses a bad, missing or foreign signature and a tampered body with 401, resolving nothing', async () => {
      const next = await app.commit({ 'deploy/a.yaml': 'a: 3\n' });
      const before = await repo('team-a');
      const good = githubPush(gh.secret, app.url, { after: next });
      const forged = githubPush('not-the-secret-0000000', app.url, { after: next });
      const { 'x-hub-signature-256': _sig, ...unsigned } = good.headers;
      const tampered = { headers: good.headers, body: Buffer.concat([good.body, Buffer.from(' ')]) };
      const cases: Array<[typeof good, string]> = [
        [forged, 'unauthorized: bad signature in x-hub-signature-256\n'],
        [{ headers: unsigned, body: good.body }, 'unauthorized: missing x-hub-signature-256 header\n'],
        [
          { headers: { ...unsigned, 'x-gitlab-token': gh.secret }, body: good.body },
          'unauthorized: missing x-hub-signature-256 header\n',
        ],
        [
          { headers: { ...unsigned, 'x-hub-signature-256': 'sha1=abc' }, body: good.body },
          'unauthorized: malformed x-hub-signature-256 (want sha256=<64 hex>)\n',
        ],
        [tampered, 'unauthorized: bad signature in x-hub-signature-256\n'],
      ];
      for (const [delivery, text] of cases) {
        const res = await postWebhook(webhooks, gh.path, delivery);
        expect([res.status, res.text]).toEqual([401, text]);
      }
      const after = await repo('team-a');
      expect([after.revision, after.resolvedAtMs]).toEqual([before.revision, before.resolvedAtMs]);
      const r = await t!.client.receivers.getReceiver({ tenant: 'team-a', name: 'gh' });
      expect(r.lastDelivery).toBe('rejected: bad signature in x-hub-signature-256');
      expect(JSON.stringify(r)).not.toContain(forged.headers['x-hub-signature-256']);
      // the good one still works afterwards
      expect((await postWebhook(webhooks, gh.path, good)).status).toBe(202);
      await eventually(async () => (await repo('team-a')).revision === `main@sha1:${next}`);
    });

    it('answers a repeated delivery id with "duplicate delivery" and no second resolution', async () => {
      const delivery = githubPush(gh.secret, app.url);
      expect((await postWebhook(webhooks, gh.path, delivery)).status).toBe(202);
      const first = await eventually(async () => {
        const r = await t!.client.receivers.getReceiver({ tenant: 'team-a', name: 'gh' });
        return r.lastDelivery === 'accepted: resolved repo app' ? repo('team-a') : undefined;
      });
      const again = await postWebhook(webhooks, gh.path, delivery);
      expect([again.status, again.text]).toEqual([200, 'duplicate delivery\n']);
      expect((await repo('team-a')).resolvedAtMs).toBe(first.resolvedAtMs);
      // the same payload under a new delivery id resolves again, to the same revision: harmless
      const replay = { ...delivery, headers: { ...delivery.headers, 'x-github-delivery': 'replayed-1' } };
      expect((await postWebhook(webhooks, gh.path, replay)).status).toBe(202);
      await eventually(async () =>
        (await repo('team-a')).resolvedAtMs > first.resolvedAtMs ? true : undefined,
      );
      expect((await repo('team-a')).revision).toBe(first.revision);
    });

    it('GitLab: the token and a push hook resolve the repo of the project URL; other hooks are ignored', async () => {
      const secret = 'gitlab-token-0123456789';
      const r = await t!.client.receivers.createReceiver({
        receiver: { tenant: 'team-a', name: 'gitlab', type: 'gitlab' },
        secret,
      });
      const path = r.receiver!.path;
      const mr = await postWebhook(
        webhooks,
        path,
        gitlabPush(secret, app.url, { event: 'Merge Request Hook' }),
      );
      expect(mr.status).toBe(200);
      const bad = await postWebhook(webhooks, path, gitlabPush('wrong-token-0123456789', app.url));
      expect([bad.status, bad.text]).toEqual([401, 'unauthorized: bad x-gitlab-token\n']);
      const next = await app.commit({ 'deploy/a.yaml': 'a: 4\n' });
      const res = await postWebhook(webhooks, path, gitlabPush(secret, `${app.url.replace(/\.git$/, '')}/`));
      expect(res.status).toBe(202);
      await eventually(async () => (await repo('team-a')).revision === `main@sha1:${next}`);
    });

    it('generic: X-Signature resolves the listed repos only', async () => {
      const other = await git!.createRepo('other', { 'a.yaml': 'a: 1\n' });
      await t!.client.repos.createRepo({ repo: { tenant: 'team-a', name: 'other', url: other.url } });
      const r = await t!.client.receivers.createReceiver({
        receiver: { tenant: 'team-a', name: 'ci', type: 'generic', repos: ['other'] },
      });
      const path = r.receiver!.path;
      const appBefore = await repo('team-a');
      const next = await other.commit({ 'a.yaml': 'a: 2\n' });
      expect((await postWebhook(webhooks, path, genericCall('wrong-secret-000000000'))).status).toBe(401);
      const res = await postWebhook(webhooks, path, genericCall(r.secret, { anything: true }));
      expect([res.status, res.text]).toEqual([202, 'accepted: resolving repo other\n']);
      await eventually(async () => (await repo('team-a', 'other')).revision === `main@sha1:${next}`);
      expect((await repo('team-a')).resolvedAtMs).toBe(appBefore.resolvedAtMs);
    });

    it('refuses a body over 1 MiB with 413 and a push that is not JSON with 400, resolving nothing', async () => {
      const before = await repo('team-a');
      const big = Buffer.alloc(2 * 1024 * 1024, 'x');
      const tooBig = await postWebhook(webhooks, gh.path, {
        headers: { 'x-github-event': 'push' },
        body: big,
      });
      expect([tooBig.status, tooBig.text]).toEqual([413, 'body too large (at most 1048576 bytes)\n']);
      const body = Buffer.from('not json');
      const signed = githubPush(gh.secret, app.url);
      const { createHmac } = await import('node:crypto');
      const headers = {
        ...signed.headers,
        'x-hub-signature-256': `sha256=${createHmac('sha256', gh.secret).update(body).digest('hex')}`,
      };
      const odd = await postWebhook(webhooks, gh.path, { headers, body });
      expect([odd.status, odd.text]).toEqual([400, 'the body is not a github push payload (JSON)\n']);
      expect((await repo('team-a')).resolvedAtMs).toBe(before.resolvedAtMs);
    });

    it('refuses a chunked body over 1 MiB, oversized headers, and closes on a client that never finishes its headers', async () => {
      // chunked: no Content-Length to refuse up front, the limit applies while reading
      const chunked = await new Promise<number>((resolve, reject) => {
        const [host, port] = webhooks.split(':');
        const req = httpRequest({ host, port: Number(port), path: gh.path, method: 'POST' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        for (let i = 0; i < 20; i++) req.write(Buffer.alloc(100 * 1024, 'x'));
        req.end();
      });
      expect(chunked).toBe(413);
      const huge = await postWebhook(webhooks, gh.path, {
        headers: { 'x-padding': 'x'.repeat(64 * 1024) },
        body: Buffer.from('{}'),
      }).catch((err: Error) => ({ status: -1, text: err.message }));
      expect([431, -1]).toContain(huge.status);
      // a client that sends half a request line and waits: the hub answers 408 or closes, in time
      const socket = connect(Number(webhooks.split(':')[1]), '127.0.0.1');
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString()));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write(`POST ${gh.path} HTTP/1.1\r\nHost: x\r\n`);
      await closed;
      expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
    });

    it('rate-limits a flood of valid deliveries per receiver with 429 and Retry-After', async () => {
      const r = await t!.client.receivers.createReceiver({
        receiver: { tenant: 'team-a', name: 'flood', type: 'generic', repos: ['app'] },
      });
      // 100 at once: passing them all would take the bucket (30, then one every 2 s) over 2 minutes
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          postWebhook(webhooks, r.receiver!.path, genericCall(r.secret, { i })),
        ),
      );
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(30);
      const limited = answers.filter((a) => a.status === 429);
      expect(limited.length).toBeGreaterThan(0);
      expect(limited[0].text).toBe('too many deliveries: retry later\n');
      expect(Number(limited[0].headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(statuses.every((s) => s === 202 || s === 429)).toBe(true);
      // another receiver has its own bucket
      const other = await postWebhook(webhooks, gh.path, githubPush(gh.secret, app.url));
      expect(other.status).toBe(202);
      await t!.client.receivers.deleteReceiver({ tenant: 'team-a', name: 'flood' });
    });

    it('never logs a secret or a signature', () => {
      expect(logged).toContain('webhook rejected');
      expect(logged).toContain('webhook: resolving');
      for (const s of [gh.secret, 'gitlab-token-0123456789', 'wrong-token-0123456789'])
        expect(logged).not.toContain(s);
      expect(logged).not.toMatch(/sha256=[0-9a-f]{64}/);
    });
  });

  describe('at rest and across restarts', () => {
    const dir = join(tmp.dir, 'restart');
    const db = join(dir, 'hub.db');
    const storeBytes = () =>
      Buffer.concat(
        readdirSync(dir)
          .filter((f) => f.startsWith('hub.db'))
          .map((f) => readFileSync(join(dir, f))),
      );
    const hubOn = (extra: { secretKeyFile?: string; oldSecretKeyFile?: string } = {}) =>
      startTestHub({
        natsUrl: nats!.url,
        db,
        resolveIntervalSeconds: 3600,
        webhookListen: '127.0.0.1:0',
        ...extra,
      });

    it('keeps the secret sealed in the store; the same path and secret work after a restart and a key rotation', async () => {
      mkdirSync(dir);
      let h = await hubOn();
      let secret = '';
      let path = '';
      try {
        await h.client.tenants.createTenant({ tenant: { name: 'team-r', namespaces: ['team-r'] } });
        await h.client.repos.createRepo({ repo: { tenant: 'team-r', name: 'app', url: app.url } });
        const r = await h.client.receivers.createReceiver({
          receiver: { tenant: 'team-r', name: 'gh', type: 'github' },
        });
        [secret, path] = [r.secret, r.receiver!.path];
      } finally {
        await h.stop();
      }
      expect(storeBytes().includes(Buffer.from(secret))).toBe(false);

      const fresh = join(dir, 'new.key');
      writeFileSync(fresh, randomBytes(32).toString('hex'));
      chmodSync(fresh, 0o600);
      const rotating = await hubOn({ secretKeyFile: fresh, oldSecretKeyFile: `${db}.key` });
      await rotating.stop();
      // the old key alone no longer opens the receiver's secret: refused at start, naming the fix
      await expect(
        startHub({
          listen: '127.0.0.1:0',
          natsUrl: nats!.url,
          db,
          secretKeyFile: `${db}.key`,
          webhookListen: '127.0.0.1:0',
          logLevel: 'silent',
        }),
      ).rejects.toThrow(
        /webhook receiver\(s\) \(team-r\/gh\) are sealed with secret key [0-9a-f]{16}, but the hub's key is [0-9a-f]{16}: .*--old-secret-key-file/,
      );

      h = await hubOn({ secretKeyFile: fresh });
      try {
        const next = await app.commit({ 'deploy/a.yaml': 'a: restarted\n' });
        const res = await postWebhook(h.hub.webhookAddress!, path, githubPush(secret, app.url));
        expect(res.status).toBe(202);
        await eventually(
          async () =>
            (await h.client.repos.getRepo({ tenant: 'team-r', name: 'app' })).revision ===
            `main@sha1:${next}`,
        );
        // a tenant delete takes its receivers with it
        await h.client.repos.deleteRepo({ tenant: 'team-r', name: 'app' });
        await h.client.tenants.deleteTenant({ name: 'team-r' });
        expect((await postWebhook(h.hub.webhookAddress!, path, githubPush(secret, app.url))).status).toBe(
          404,
        );
      } finally {
        await h.stop();
      }
      expect(storeBytes().includes(Buffer.from(secret))).toBe(false);
    });

    it('gitfleet hub serves webhooks on GITFLEET_WEBHOOK_LISTEN and says where; refuses a bad address', async () => {
      const run = (env: Record<string, string>) =>
        spawn(
          process.execPath,
          [cli, 'hub', '--listen', '127.0.0.1:0', '--nats', nats!.url, '--db', ':memory:'],
          {
            env: { ...process.env, GITFLEET_LOG_LEVEL: 'error', ...env },
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
      if (!fs.existsSync(cli))
        throw new Error(`${cli} is missing: run \`npm run build\` first (npm test does)`);
      const hub = run({ GITFLEET_WEBHOOK_LISTEN: '127.0.0.1:0' });
      let stderr = '';
      hub.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise((resolve) => hub.once('exit', resolve));
      try {
        const address = await eventually(
          () => /gitfleet hub webhooks on http:\/\/(127\.0\.0\.1:\d+)\n/.exec(stderr)?.[1],
          { describe: () => `gitfleet hub said: ${stderr}` },
        );
        const res = await postWebhook(address, `/hook/${'0'.repeat(40)}`, genericCall('x'.repeat(16)));
        expect([res.status, res.text]).toEqual([404, 'not found\n']);
      } finally {
        hub.kill('SIGTERM');
        // a hub that does not stop within a minute of SIGTERM fails here, after being killed for good
        const timer = new AbortController();
        const stopped = await Promise.race([
          exited.then(() => true),
          sleep(60_000, false, { signal: timer.signal }).catch(() => false),
        ]);
        timer.abort();
        if (!stopped) hub.kill('SIGKILL');
        expect({ stopped, stderr }).toEqual({ stopped: true, stderr: expect.any(String) });
      }
      const bad = run({ GITFLEET_WEBHOOK_LISTEN: 'http://0.0.0.0:80' });
      let badErr = '';
      bad.stderr.on('data', (d: Buffer) => (badErr += d.toString()));
      const code = await new Promise((resolve) => bad.once('exit', resolve));
      expect([code, badErr]).toEqual([
        1,
        'gitfleet: invalid hub config: webhookListen: "http://0.0.0.0:80" is not "host:port" (IPv6 as "[::1]:port")\n',
      ]);
    });

    it('refuses a bad --webhook-listen and a taken port at start, naming the setting', async () => {
      const base = { listen: '127.0.0.1:0', natsUrl: nats!.url, db: ':memory:', logLevel: 'silent' };
      await expect(startHub({ ...base, webhookListen: 'everywhere' })).rejects.toThrow(
        'invalid hub config: webhookListen: "everywhere" is not "host:port" (IPv6 as "[::1]:port")',
      );
      await expect(startHub({ ...base, webhookListen: webhooks })).rejects.toThrow(
        `webhook listener on ${webhooks}: listen EADDRINUSE`,
      );
    });
  });
});
