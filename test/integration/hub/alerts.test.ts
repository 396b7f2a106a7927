// Alerts on the real hub, nats-server and a local HTTP receiver: fleet events reach the alerts they
// are routed to (per tenant; admin alerts get everything, cluster events included), signed, in
// Slack's shape, retried when the receiver fails, never blocking status ingest; threshold; and
// hostile input. A second part runs the built CLI against a hub it starts, and reads that hub's
// log for the URL's token and the secret.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, execFile as execFileCb, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { status as Code } from '@grpc/grpc-js';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  AssignmentState,
  Heartbeat,
  STATUS_CONSUMER,
  STATUS_STREAM,
  StatusReport,
  assignmentStatusSubject,
  heartbeatSubject,
} from '../../../proto/index.js';
import { createHubClient, type HubClient } from '../../../cli/client/hub-client.js';
import { deferred, type Deferred } from '../../../lib/limit.js';
import { freePort, startGit, startNats, type GitEnv, type NatsEnv } from '../../env/index.js';
import {
  busProbe,
  eventually,
  grpcError,
  startTestHub,
  tempDir,
  testAdminToken,
  type BusProbe,
  type TestHub,
} from './harness.js';

const execFile = promisify(execFileCb);
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dist', 'cli', 'main.js');

interface Hit {
  path: string;
  headers: IncomingMessage['headers'];
  raw: string;
  body: Record<string, string>;
}

/** A local receiver: records every POST; answers per path from a script (200 when it is empty). */
async function startReceiver() {
  const hits: Hit[] = [];
  const script = new Map<string, Array<number | Deferred<number>>>();
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0];
      let body: Record<string, string> = {};
      try {
        body = JSON.parse(raw) as Record<string, string>;
      } catch {
        // recorded as it came
      }
      hits.push({ path, headers: req.headers, raw, body });
      const next = script.get(path)?.shift() ?? 200;
      void Promise.resolve(typeof next === 'number' ? next : next.promise).then((code) =>
        res.writeHead(code).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    hits,
    script,
    at: (path: string) => hits.filter((h) => h.path === path),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** Publishes status reports as an agent would; each a later run than the one before. */
function reporter(bus: () => BusProbe) {
  let seq = Date.now();
  return async (tenant: string, assignment: string, state: AssignmentState, message = '') => {
    const at = ++seq;
    await bus().js.publish(
      assignmentStatusSubject('c1'),
      StatusReport.encode({
        status: StatusReport.fromPartial({
          status: {
            tenant,
            assignment,
            state,
            reason:
              state === AssignmentState.ASSIGNMENT_STATE_FAILED ? 'ApplyFailed' : 'ReconciliationSucceeded',
            message,
            startedAtMs: at,
            finishedAtMs: at,
          },
        }).status,
      }).finish(),
    );
    return at;
  };
}

const FAILED = AssignmentState.ASSIGNMENT_STATE_FAILED;
const READY = AssignmentState.ASSIGNMENT_STATE_READY;
const PROGRESSING = AssignmentState.ASSIGNMENT_STATE_PROGRESSING;

describe('alerts', () => {
  let nats: NatsEnv | undefined;
  let git: GitEnv | undefined;
  let bus: BusProbe | undefined;
  let t: TestHub | undefined;
  let rx: Receiver | undefined;
  const tmp = tempDir('gitfleet-hub-alerts-');
  const report = reporter(() => bus!);
  /** Waits until the hub stored the report of run `at` (ingest went that far). */
  const stored = (tenant: string, assignment: string, at: number) =>
    eventually(async () =>
      (await t!.client.status.getStatus({ tenant, assignment })).statuses.some((s) => s.startedAtMs === at),
    );
  /** A fresh failure: Progressing, then Failed (a transition each time). */
  const fail = async (tenant: string, assignment: string, message = 'cm.yaml: bad') => {
    await report(tenant, assignment, PROGRESSING);
    return report(tenant, assignment, FAILED, message);
  };

  beforeAll(async () => {
    nats = await startNats();
    git = await startGit();
    rx = await startReceiver();
    const repo = await git.createRepo('app', { 'deploy/cm.yaml': 'kind: ConfigMap\n' });
    t = await startTestHub({ natsUrl: nats.url, db: `${tmp.dir}/hub.db`, clusterOfflineAfterSeconds: 3 });
    bus = await busProbe(nats.url);
    const { tenants, repos, clusters, assignments } = t.client;
    await clusters.createCluster({ cluster: { name: 'c1', labels: {} } });
    await clusters.createCluster({ cluster: { name: 'c2', labels: {} } });
    const owned: Array<[string, string[]]> = [
      ['team-a', ['web', 'flaky', 'thr', 'slow']],
      ['team-b', ['api']],
    ];
    for (const [tenant, names] of owned) {
      await tenants.createTenant({ tenant: { name: tenant, namespaces: [tenant] } });
      await repos.createRepo({ repo: { tenant, name: 'app', url: repo.url } });
      for (const name of names) {
        await assignments.createAssignment({
          assignment: { tenant, name, repo: 'app', path: 'deploy', clusters: ['c1'] },
        });
      }
    }
    const jsm = await jetstreamManager(bus.nc);
    await eventually(() => jsm.consumers.info(STATUS_STREAM, STATUS_CONSUMER));
    // an admin alert (every event) and a tenant's (its own events only), created before any event
    await t.client.alerts.createAlert({ alert: { name: 'all', type: 'webhook', url: `${rx.base}/admin` } });
    await t.client.alerts.createAlert({
      alert: {
        name: 'clusters',
        type: 'webhook',
        url: `${rx.base}/clusters`,
        events: ['cluster.offline', 'cluster.online'],
      },
    });
    await t.client.alerts.createAlert({
      alert: { tenant: 'team-a', name: 'ops', type: 'webhook', url: `${rx.base}/team-a?token=URLTOKEN1` },
      secret: 'hmac-key-1',
    });
  });

  afterAll(async () => {
    await bus?.close();
    await t?.stop();
    await rx?.close();
    await git?.stop();
    await nats?.destroy();
    tmp.remove();
  });

  it("sends a tenant's failure to its alert, signed, and not another tenant's; admin alerts get both", async () => {
    // team-b's first: the same ordered ingest and outbox would deliver it before team-a's
    await fail('team-b', 'api');
    await fail('team-a', 'web');
    const hit = await eventually(() => rx!.at('/team-a').find((h) => h.body.assignment === 'web'));
    expect(rx!.at('/team-a').filter((h) => h.body.tenant === 'team-b')).toEqual([]);
    expect(hit.body).toEqual({
      kind: 'assignment.failed',
      severity: 'error',
      tenant: 'team-a',
      assignment: 'web',
      cluster: 'c1',
      revision: expect.any(String),
      message: 'team-a/web failed on cluster c1: ApplyFailed: cm.yaml: bad',
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(hit.headers['content-type']).toBe('application/json');
    expect(hit.headers['user-agent']).toMatch(/^gitfleet\/\d+\.\d+\.\d+/);
    const mac = createHmac('sha256', 'hmac-key-1').update(hit.raw).digest('hex');
    expect(hit.headers['x-gitfleet-signature']).toBe(`sha256=${mac}`);

    await eventually(() =>
      rx!.at('/admin').some((h) => h.body.tenant === 'team-a' && h.body.assignment === 'web'),
    );
    const admin = rx!.at('/admin');
    expect(admin.some((h) => h.body.tenant === 'team-b' && h.body.kind === 'assignment.failed')).toBe(true);
    // no secret: no signature
    expect(admin[0].headers['x-gitfleet-signature']).toBeUndefined();
  });

  it('sends a Slack-compatible body: one line of text with a marker and the names', async () => {
    await t!.client.alerts.createAlert({
      alert: {
        name: 'chat',
        type: 'slack',
        url: `${rx!.base}/slack`,
        events: ['assignment.failed'],
        assignments: ['web'],
      },
    });
    await fail('team-a', 'web', 'Deployment web: <bad> image');
    const hit = await eventually(() => rx!.at('/slack')[0]);
    expect(Object.keys(hit.body)).toEqual(['text']);
    expect(hit.body.text).toMatch(
      /^:x: \*assignment\.failed\* \(team-a\/web, cluster c1(, revision [^)]+)?\): team-a\/web failed on cluster c1: ApplyFailed: Deployment web: &lt;bad&gt; image$/,
    );
    expect(hit.headers['content-type']).toBe('application/json');
  });

  it('retries a receiver that answers 500 twice, while status ingest keeps going', async () => {
    const third = deferred<number>();
    rx!.script.set('/flaky', [500, 500, third]);
    await t!.client.alerts.createAlert({
      alert: {
        tenant: 'team-a',
        name: 'retry',
        type: 'webhook',
        url: `${rx!.base}/flaky`,
        assignments: ['flaky'],
      },
    });
    await fail('team-a', 'flaky');
    // the third attempt is held open by the receiver: status reports are still stored meanwhile
    await eventually(() => rx!.at('/flaky').length === 3, { timeoutMs: 60_000 });
    const get = () => t!.client.alerts.getAlert({ tenant: 'team-a', name: 'retry' });
    const retrying = await eventually(async () => {
      const { lastError } = await get();
      return lastError.endsWith('(attempt 2 failed)') ? lastError : undefined;
    });
    expect(retrying).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+ answered 500 Internal Server Error; retrying \(attempt 2 failed\)$/,
    );
    const at = await report('team-a', 'web', READY);
    await stored('team-a', 'web', at);
    third.resolve(200);
    const delivered = await eventually(async () => ((await get()).lastSentAtMs > 0 ? get() : undefined));
    expect(delivered.lastError).toBe('');
    const bodies = rx!.at('/flaky').map((h) => h.raw);
    expect(new Set(bodies).size).toBe(1);
    expect(JSON.parse(bodies[0])).toMatchObject({ kind: 'assignment.failed', assignment: 'flaky' });
  });

  it('a receiver that is down blocks neither status ingest nor other alerts, and its error shows', async () => {
    const port = await freePort(); // nothing listens there
    await t!.client.alerts.createAlert({
      alert: {
        name: 'dead',
        type: 'webhook',
        url: `http://127.0.0.1:${port}/x?token=DEADTOKEN`,
        assignments: ['slow'],
      },
      secret: 'dead-secret',
    });
    const at = await fail('team-a', 'slow');
    await stored('team-a', 'slow', at);
    // the admin alert gets the same event at once
    await eventually(() => rx!.at('/admin').some((h) => h.body.assignment === 'slow'));
    const dead = await eventually(async () => {
      const a = await t!.client.alerts.getAlert({ tenant: '', name: 'dead' });
      return a.lastError ? a : undefined;
    });
    expect(dead.lastError).toBe(`http://127.0.0.1:${port}: ECONNREFUSED; retrying (attempt 1 failed)`);
    expect(dead.url).toBe(`http://127.0.0.1:${port}`);
  });

  it('sends cluster offline and online to admin alerts only', async () => {
    const beat = () =>
      bus!.js.publish(
        heartbeatSubject('c2'),
        Heartbeat.encode(
          Heartbeat.fromPartial({ cluster: 'c2', agentVersion: 'test', sentAtMs: Date.now() }),
        ).finish(),
      );
    const state = async () => (await t!.client.clusters.getCluster({ name: 'c2' })).state;
    const seen = (kind: string) =>
      rx!.at('/clusters').some((h) => h.body.kind === kind && h.body.cluster === 'c2');
    // Online, then silent until Offline; again if the hub's check missed the Online (a busy machine)
    await eventually(
      async () => {
        await eventually(async () => (await beat(), (await state()) === 'Online'));
        await eventually(async () => (await state()) === 'Offline', { timeoutMs: 15_000 });
        return eventually(() => seen('cluster.offline'), { timeoutMs: 10_000 }).catch(() => false);
      },
      { timeoutMs: 120_000 },
    );
    await eventually(async () => (await beat(), seen('cluster.online')), { timeoutMs: 30_000 });
    const offline = rx!.at('/clusters').find((h) => h.body.kind === 'cluster.offline')!;
    expect(offline.body).toMatchObject({ severity: 'error', tenant: '', assignment: '', cluster: 'c2' });
    expect(offline.body.message).toMatch(/^cluster c2 is offline: no heartbeat for \d+s$/);
    expect(rx!.at('/team-a').filter((h) => h.body.kind.startsWith('cluster.'))).toEqual([]);
  });

  it('with --threshold 3, sends a failure only at the third within the window, then its recovery', async () => {
    await t!.client.alerts.createAlert({
      alert: {
        tenant: 'team-a',
        name: 'thr',
        type: 'webhook',
        url: `${rx!.base}/thr`,
        assignments: ['thr'],
        threshold: 3,
        windowSeconds: 600,
      },
    });
    await fail('team-a', 'thr', 'first');
    await stored('team-a', 'thr', await fail('team-a', 'thr', 'second'));
    // the test message goes through the same outbox: anything queued before it arrives first
    await t!.client.alerts.testAlert({ tenant: 'team-a', name: 'thr' });
    await eventually(() => rx!.at('/thr').some((h) => h.body.kind === 'test'));
    expect(rx!.at('/thr').map((h) => h.body.kind)).toEqual(['test']);
    await fail('team-a', 'thr', 'third');
    await eventually(() => rx!.at('/thr').length === 2);
    expect(rx!.at('/thr')[1].body).toMatchObject({
      kind: 'assignment.failed',
      message: expect.stringMatching(/: third$/),
    });
    await report('team-a', 'thr', READY);
    await eventually(() => rx!.at('/thr').length === 3);
    expect(rx!.at('/thr')[2].body).toMatchObject({ kind: 'assignment.recovered', assignment: 'thr' });
  });

  describe('hostile input', () => {
    const names = async () =>
      (await t!.client.alerts.listAlerts({})).alerts.map((a) => `${a.tenant}/${a.name}`);

    it.each([
      ['a file: URL', { url: 'file:///etc/passwd' }, 'alert.url: must be an http or https URL (not "file":)'],
      [
        'a javascript: URL',
        { url: 'javascript:alert(1)' },
        'alert.url: must be an http or https URL (not "javascript":)',
      ],
      ['a URL without host', { url: 'https:///hook' }, 'alert.url: has no host'],
      ['a URL with user info', { url: 'http://u:TOKENPW@h/x' }, 'alert.url: must not contain user info'],
      [
        'an oversized URL',
        { url: `https://h/${'x'.repeat(5000)}` },
        'alert.url: is 5010 characters long (at most 2048)',
      ],
      ['an oversized name', { name: 'n'.repeat(100_000) }, 'alert.name: "nnnn'],
      [
        'an unknown event kind',
        { events: ['assignment.failed', 'nope'] },
        'alert.events[1]: "nope" is not an event kind',
      ],
      [
        'too many assignments',
        { assignments: Array(1000).fill('a') },
        'alert.assignments: 1000 entries (at most 100)',
      ],
      ['an unknown type', { type: 'email' }, 'alert.type: "email": use one of webhook, slack'],
      ['a threshold without a window', { threshold: 3 }, 'alert.window_seconds: required with a threshold'],
    ])('refuses %s with a clear error, creating nothing', async (_what, fields, message) => {
      const before = await names();
      const err = await grpcError(
        t!.client.alerts.createAlert({
          alert: { name: 'bad', type: 'webhook', url: 'https://hooks.example.com/x', ...fields },
        }),
      );
      expect(err.code).toBe(Code.INVALID_ARGUMENT);
      expect(err.details).toContain(message);
      expect(err.details.length).toBeLessThan(400);
      expect(err.details).not.toContain('TOKENPW');
      expect(await names()).toEqual(before);
    });

    it('refuses an oversized secret, a tenant that does not exist, and a second alert of a name', async () => {
      const alert = { name: 'bad', type: 'webhook', url: 'https://hooks.example.com/x' };
      const big = await grpcError(t!.client.alerts.createAlert({ alert, secret: 's'.repeat(5000) }));
      expect([big.code, big.details]).toEqual([
        Code.INVALID_ARGUMENT,
        'secret: has 5000 bytes (at most 4096)',
      ]);
      const ghost = await grpcError(t!.client.alerts.createAlert({ alert: { ...alert, tenant: 'ghost' } }));
      expect(ghost.code).toBe(Code.FAILED_PRECONDITION);
      expect(ghost.details).toContain('alert.tenant: tenant "ghost" does not exist');
      const twice = await grpcError(t!.client.alerts.createAlert({ alert: { ...alert, name: 'all' } }));
      expect([twice.code, twice.details]).toEqual([Code.ALREADY_EXISTS, 'alert "all" already exists']);
    });

    it('keeps a tenant that has alerts from being deleted', async () => {
      await t!.client.tenants.createTenant({ tenant: { name: 'team-c', namespaces: ['team-c'] } });
      await t!.client.alerts.createAlert({
        alert: { tenant: 'team-c', name: 'pager', type: 'webhook', url: `${rx!.base}/c` },
      });
      const err = await grpcError(t!.client.tenants.deleteTenant({ name: 'team-c' }));
      expect([err.code, err.details]).toEqual([
        Code.FAILED_PRECONDITION,
        'tenant "team-c" still owns alerts pager: delete them first',
      ]);
      await t!.client.alerts.deleteAlert({ tenant: 'team-c', name: 'pager' });
      await t!.client.tenants.deleteTenant({ name: 'team-c' });
    });

    it('never returns the URL beyond scheme://host, nor the secret', async () => {
      const listed = await t!.client.alerts.listAlerts({});
      const got = await eventually(async () => {
        const a = await t!.client.alerts.getAlert({ tenant: 'team-a', name: 'ops' });
        return a.lastSentAtMs > 0 ? a : undefined;
      });
      const text = JSON.stringify([listed, got]);
      for (const secret of ['URLTOKEN1', 'hmac-key-1', 'DEADTOKEN', 'dead-secret', '/team-a', '/x']) {
        expect(text).not.toContain(secret);
      }
      expect(got).toMatchObject({
        tenant: 'team-a',
        name: 'ops',
        type: 'webhook',
        url: rx!.base,
        severity: 'info',
      });
    });

    it("a tenant token manages its own tenant's alerts only", async () => {
      const { secret } = await t!.client.tokens.createToken({ role: 'tenant', tenant: 'team-a' });
      const a = createHubClient(t!.hub.address, { deadlineMs: 30_000, token: secret });
      const viewer = createHubClient(t!.hub.address, {
        deadlineMs: 30_000,
        token: (await t!.client.tokens.createToken({ role: 'viewer' })).secret,
      });
      try {
        const alert = { name: 'mine', type: 'webhook', url: `${rx!.base}/mine` };
        const before = await names();
        for (const call of [
          a.alerts.createAlert({ alert: { ...alert, tenant: 'team-b' } }),
          a.alerts.createAlert({ alert }), // no tenant: an admin alert
          a.alerts.getAlert({ tenant: '', name: 'all' }),
          a.alerts.deleteAlert({ tenant: '', name: 'all' }),
          a.alerts.testAlert({ tenant: '', name: 'all' }),
          a.alerts.listAlerts({ tenant: 'team-b' }),
          viewer.alerts.createAlert({ alert: { ...alert, tenant: 'team-a' } }),
        ]) {
          expect((await grpcError(call)).code).toBe(Code.PERMISSION_DENIED);
        }
        expect(await names()).toEqual(before);
        await a.alerts.createAlert({ alert: { ...alert, tenant: 'team-a' } });
        const own = (await a.alerts.listAlerts({})).alerts;
        expect(own.every((x) => x.tenant === 'team-a')).toBe(true);
        expect(own.map((x) => x.name)).toContain('mine');
        await a.alerts.deleteAlert({ tenant: 'team-a', name: 'mine' });
        expect((await grpcError(a.alerts.getAlert({ tenant: 'team-a', name: 'mine' }))).code).toBe(
          Code.NOT_FOUND,
        );
      } finally {
        a.close();
        viewer.close();
      }
    });
  });
});

describe('alerts through the built CLI', () => {
  let nats: NatsEnv | undefined;
  let hub: ChildProcess | undefined;
  let client: HubClient | undefined;
  let rx: Receiver | undefined;
  let bus: BusProbe | undefined;
  let address = '';
  let stderr = '';
  const token = testAdminToken();
  const tmp = tempDir('gitfleet-cli-alerts-');

  beforeAll(async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first (npm test does)`);
    nats = await startNats();
    rx = await startReceiver();
    address = `127.0.0.1:${await freePort()}`;
    writeFileSync(join(tmp.dir, 'admin.token'), `${token}\n`, { mode: 0o600 });
    hub = spawn(
      process.execPath,
      [
        cli,
        'hub',
        ...['--listen', address, '--nats', nats.url, '--db', join(tmp.dir, 'hub.db')],
        ...['--admin-token-file', join(tmp.dir, 'admin.token')],
      ],
      { env: { ...process.env, GITFLEET_LOG_LEVEL: 'debug' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    hub.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    client = createHubClient(address, { deadlineMs: 30_000, token });
    await eventually(() => client!.tenants.listTenants({}), { timeoutMs: 60_000 });
    bus = await busProbe(nats.url);
    await client.tenants.createTenant({ tenant: { name: 'team-a', namespaces: ['team-a'] } });
  });

  afterAll(async () => {
    client?.close();
    await bus?.close();
    if (hub && hub.exitCode === null) {
      const exited = new Promise((resolve) => hub!.once('exit', resolve));
      hub.kill('SIGTERM');
      await exited;
    }
    await rx?.close();
    await nats?.destroy();
    tmp.remove();
  });

  const run = async (...args: string[]) => {
    try {
      const { stdout } = await execFile(process.execPath, [cli, ...args], {
        env: { ...process.env, GITFLEET_HUB: address, GITFLEET_TOKEN: token },
      });
      return { code: 0, stdout, stderr: '' };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it('creates, lists, gets, tests and deletes an alert; URL token and secret stay out of output and log', async () => {
    const urlFile = join(tmp.dir, 'url');
    const secretFile = join(tmp.dir, 'secret');
    writeFileSync(urlFile, `${rx!.base}/cli?token=CLIURLTOKEN\n`, { mode: 0o600 });
    writeFileSync(secretFile, 'CLISECRET\n', { mode: 0o600 });
    rx!.script.set('/cli', [500]); // the first delivery is retried: its error is logged
    const created = await run(
      ...['alert', 'create', 'ops', '--tenant', 'team-a', '--type', 'webhook'],
      ...['--url-file', urlFile, '--secret-file', secretFile, '--event', 'assignment.failed'],
      ...['--threshold', '2', '--window', '10m', '--rate-limit', '1m'],
    );
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toMatch(
      /^TENANT\s+NAME\s+TYPE\s+RECEIVER\s+EVENTS\s+SEVERITY\s+LAST-SENT\s+LAST-ERROR\n/,
    );
    expect(created.stdout).toContain(`team-a  ops   webhook  ${rx!.base}  assignment.failed  info`);

    const listed = await run('alert', 'list');
    expect(listed.stdout).toMatch(
      /team-a\s+ops\s+webhook\s+http:\/\/127\.0\.0\.1:\d+\s+assignment\.failed\s+info\s+-/,
    );
    const got = await run('alert', 'get', 'ops', '--tenant', 'team-a', '-o', 'json');
    expect(JSON.parse(got.stdout)).toMatchObject({
      url: rx!.base,
      threshold: 2,
      windowSeconds: 600,
      rateLimitSeconds: 60,
    });

    expect(await run('alert', 'test', 'ops', '--tenant', 'team-a')).toMatchObject({
      code: 0,
      stdout: 'test message of alert "team-a/ops" queued\n',
    });
    // 500, then delivered: the same signed body twice
    await eventually(() => rx!.at('/cli').length === 2);
    const [first, hit] = rx!.at('/cli');
    expect(hit.body).toMatchObject({ kind: 'test', tenant: 'team-a' });
    expect(hit.raw).toBe(first.raw);
    expect(hit.headers['x-gitfleet-signature']).toBe(
      `sha256=${createHmac('sha256', 'CLISECRET').update(hit.raw).digest('hex')}`,
    );
    await eventually(
      async () => (await client!.alerts.getAlert({ tenant: 'team-a', name: 'ops' })).lastSentAtMs > 0,
    );

    expect(await run('alert', 'delete', 'ops', '--tenant', 'team-a')).toMatchObject({
      code: 0,
      stdout: 'alert "team-a/ops" deleted\n',
    });
    expect((await run('alert', 'list')).stdout).toBe('No resources found.\n');

    await eventually(() => stderr.includes('"alert created"') && stderr.includes('retrying'));
    for (const secret of ['CLIURLTOKEN', 'CLISECRET']) expect(stderr).not.toContain(secret);
    for (const secret of ['CLIURLTOKEN', 'CLISECRET', '/cli']) {
      expect(JSON.stringify([created, listed, got])).not.toContain(secret);
    }
  });

  it('refuses bad flags with one clear line and creates nothing', async () => {
    const bad = async (args: string[], message: string) => {
      const r = await run('alert', 'create', 'bad', ...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`gitfleet: ${message}\n`);
    };
    await bad(
      ['--type', 'webhook', '--url', 'file:///etc/passwd'],
      'INVALID_ARGUMENT: alert.url: must be an http or https URL (not "file":)',
    );
    await bad(['--type', 'webhook'], "--url or --url-file is required: the receiver's http(s) URL");
    await bad(
      ['--type', 'webhook', '--url', 'https://h/x', '--threshold', '3'],
      '--threshold and --window go together: alert after N failures within a window',
    );
    await bad(
      ['--type', 'webhook', '--url', 'https://h/x', '--threshold', 'x', '--window', '1m'],
      'invalid --threshold "x": use a positive whole number',
    );
    await bad(
      ['--type', 'webhook', '--url', 'https://h/x', '--rate-limit', 'soon'],
      '--rate-limit: invalid duration "soon": use e.g. 30s, 5m, 1h30m',
    );
    await bad(
      ['--type', 'webhook', '--url', 'https://h/x', '--secret-file', join(tmp.dir, 'nope')],
      `--secret-file ${join(tmp.dir, 'nope')}: ENOENT`,
    );
    expect((await run('alert', 'list')).stdout).toBe('No resources found.\n');
  });
});

describe('alerts across a secret key rotation', () => {
  let nats: NatsEnv | undefined;
  let t: TestHub | undefined;
  let rx: Receiver | undefined;
  const tmp = tempDir('gitfleet-alerts-rotation-');
  const key = (name: string) => {
    const path = join(tmp.dir, name);
    writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    return path;
  };

  beforeAll(async () => {
    nats = await startNats();
    rx = await startReceiver();
  });

  afterAll(async () => {
    await t?.stop();
    await rx?.close();
    await nats?.destroy();
    tmp.remove();
  });

  it('re-seals URL and secret under the new key, and shows an alert no loaded key opens as unusable', async () => {
    const [a, b, c] = [key('a.key'), key('b.key'), key('c.key')];
    const db = join(tmp.dir, 'hub.db');
    t = await startTestHub({ natsUrl: nats!.url, db, secretKeyFile: a });
    await t.client.alerts.createAlert({
      alert: { name: 'ops', type: 'webhook', url: `${rx!.base}/rotated?token=ROTTOKEN` },
      secret: 'rot-secret',
    });
    await t.stop();

    // rotation a → b: the alert still delivers, signed with its secret
    t = await startTestHub({ natsUrl: nats!.url, db, secretKeyFile: b, oldSecretKeyFile: a });
    await t.client.alerts.testAlert({ name: 'ops' });
    const hit = await eventually(() => rx!.at('/rotated')[0]);
    expect(hit.headers['x-gitfleet-signature']).toBe(
      `sha256=${createHmac('sha256', 'rot-secret').update(hit.raw).digest('hex')}`,
    );
    await t.stop();

    // b alone opens it now (re-sealed); c alone does not: unusable, said so, nothing sent
    t = await startTestHub({ natsUrl: nats!.url, db, secretKeyFile: b });
    await t.client.alerts.testAlert({ name: 'ops' });
    await eventually(() => rx!.at('/rotated').length === 2);
    await t.stop();
    t = await startTestHub({ natsUrl: nats!.url, db, secretKeyFile: c });
    const got = await eventually(async () => {
      const x = await t!.client.alerts.getAlert({ name: 'ops' });
      return x.lastError ? x : undefined;
    });
    expect(got.lastError).toMatch(
      /^cannot be used: its URL or secret does not open \(sealed with secret key [0-9a-f]{16}, which is not loaded/,
    );
    expect(got.lastError).not.toContain('ROTTOKEN');
    const err = await grpcError(t.client.alerts.testAlert({ name: 'ops' }));
    expect([err.code, err.details]).toEqual([
      Code.FAILED_PRECONDITION,
      'alert "ops" cannot be used: see its last_error (alert get)',
    ]);
  });
});
