// gitfleet end to end on the real test environment: a hub (SQLite) and an agent process on a
// real nats-server, kube-apiserver and git server, driven through the gRPC API. The bus is
// authenticated (`gitfleet bus init`): the agent joins with a one-time token and keeps its
// credentials in a Secret. The agent runs as the `gitfleet agent` command with the ServiceAccount
// and RBAC of deploy/agent — so these tests also prove that RBAC is enough — and applies tenants'
// objects impersonating them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, execFile as execFileCb, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { connect, credsAuthenticator } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { initBus, startHub, type BusInitResult, type RunningHub } from '../../hub/main.js';
import { createHubClient, type HubClient } from '../../cli/client/hub-client.js';
import { testAdminToken } from '../integration/hub/harness.js';
import {
  AssignmentState,
  ConditionStatus,
  ConditionType,
  DESIRED_BUCKET,
  DesiredSet,
  Reason,
  desiredKey,
  findCondition,
  type Assignment,
  type AssignmentStatus,
} from '../../proto/index.js';
import {} from '../../proto/api.js';
import {
  eventually,
  startServers,
  type GitEnv,
  type GitRepo,
  type KubeEnv,
  type NatsEnv,
  type Servers,
} from '../env/index.js';
import { configMapYaml, deploymentYaml } from '../fixtures/manifests.js';

const execFile = promisify(execFileCb);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const CLUSTER = 'e2e-1';

function httpStatus(err: unknown): number | undefined {
  const e = err as { code?: number; statusCode?: number };
  return e.code ?? e.statusCode;
}

async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (err) {
    if (httpStatus(err) === 404) return false;
    throw err;
  }
}

describe('gitfleet end to end', () => {
  let servers: Servers | undefined;
  let nats: NatsEnv;
  let kube: KubeEnv;
  let git: GitEnv;
  let hub: RunningHub;
  let client: HubClient;
  let repo: GitRepo;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let work: string;
  let agentKubeconfig: string;
  let agent: ChildProcess | undefined;
  let hubAddress: string;
  let dbPath: string;
  let bus: BusInitResult;
  let joinToken: string;
  const adminToken = testAdminToken();
  const startTheHub = (listen: string) =>
    startHub({
      listen,
      natsUrl: nats.url,
      db: dbPath,
      logLevel: 'warn',
      adminToken,
      natsCredsFile: bus.hubCreds,
    });

  const startAgentProcess = () => {
    const fd = openSync(join(work, 'agent.log'), 'a');
    agent = spawn(
      process.execPath,
      [
        cli,
        'agent',
        '--cluster',
        CLUSTER,
        // the token works once: restarts reuse the credentials stored at the first join
        '--join',
        joinToken,
        '--hub',
        hubAddress,
        '--kubeconfig',
        agentKubeconfig,
        '--resync',
        '10s',
        '--cache-dir',
        join(work, 'cache'),
        '--fetch-jitter',
        '0',
      ],
      { stdio: ['ignore', fd, fd], env: { ...process.env, GITFLEET_LOG_LEVEL: 'debug' } },
    );
    closeSync(fd);
  };
  const stopAgentProcess = async (signal: NodeJS.Signals) => {
    const a = agent;
    agent = undefined;
    if (!a || a.exitCode !== null) return;
    const exited = new Promise((r) => a.once('exit', r));
    a.kill(signal);
    await exited;
  };
  const agentLog = () =>
    existsSync(join(work, 'agent.log'))
      ? readFileSync(join(work, 'agent.log'), 'utf8').split('\n').slice(-30).join('\n')
      : '';

  const statusOf = async (): Promise<AssignmentStatus | undefined> => {
    const res = await client.status.getStatus({ tenant: 'team-a', cluster: CLUSTER, assignment: 'apps' });
    return res.statuses[0];
  };
  /** Waits until the assignment's status satisfies `pred` and returns it. */
  const waitStatus = (pred: (s: AssignmentStatus) => boolean, what: string, timeoutMs = 90_000) => {
    let last: AssignmentStatus | undefined;
    return eventually(
      async () => {
        last = await statusOf();
        return last && pred(last) ? last : undefined;
      },
      {
        timeoutMs,
        intervalMs: 200,
        describe: () =>
          `waiting for ${what}; last status: ${JSON.stringify(last)}\nagent log:\n${agentLog()}`,
      },
    );
  };
  const readyAt = (sha: string) => (s: AssignmentStatus) =>
    s.state === AssignmentState.ASSIGNMENT_STATE_READY && s.appliedRevision.endsWith(sha);
  const pushAndResolve = async (files: Record<string, string | null>, message: string): Promise<string> => {
    const sha = await repo.commit(files, message);
    const r = await client.repos.resolveRepo({ tenant: 'team-a', name: 'apps' });
    expect(r.revision).toBe(`main@sha1:${sha}`);
    return sha;
  };
  const readCm = (namespace: string, name: string) => core.readNamespacedConfigMap({ namespace, name });

  beforeAll(async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first (npm test does)`);
    work = mkdtempSync(join(tmpdir(), 'gitfleet-e2e-'));
    bus = await initBus({ dir: join(work, 'bus') });
    servers = await startServers({
      git: { username: 'fleet', password: 'e2e-pass' },
      nats: { configFile: bus.natsConf },
    });
    ({ nats, kube, git } = servers);
    kc = kube.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);

    // the agent's identity: exactly deploy/agent's namespace, ServiceAccount and RBAC
    const rendered = (await execFile('kubectl', ['kustomize', join(root, 'deploy', 'agent')])).stdout;
    const identity = parseAllDocuments(rendered)
      .map((d) => d.toJS() as { kind: string })
      .filter((o) => !['Deployment', 'ConfigMap'].includes(o.kind));
    const apply = execFile('kubectl', [
      '--kubeconfig',
      kube.kubeconfigPath,
      'apply',
      '--server-side',
      '-f',
      '-',
    ]);
    apply.child.stdin?.end(identity.map((o) => JSON.stringify(o)).join('\n'));
    await apply;
    const token = await eventually(async () => {
      const secrets = await core.listNamespacedSecret({
        namespace: 'gitfleet-system',
        fieldSelector: 'type=kubernetes.io/service-account-token',
      });
      const s = secrets.items.find(
        (x) => x.metadata?.annotations?.['kubernetes.io/service-account.name'] === 'gitfleet-agent',
      );
      return s?.data?.token ? Buffer.from(s.data.token, 'base64').toString('utf8') : undefined;
    });
    agentKubeconfig = kube.writeKubeconfig('gitfleet-agent', token);

    // another tenant's namespace with an object team-a must never touch
    await core.createNamespace({ body: { metadata: { name: 'team-b' } } });
    await core.createNamespacedConfigMap({
      namespace: 'team-b',
      body: { metadata: { name: 'shared' }, data: { owner: 'team-b' } },
    });

    repo = await git.createRepo('apps', {
      'apps/config.yaml': configMapYaml('settings', { color: 'blue' }),
      'apps/extra.yaml': configMapYaml('extra', { keep: 'no' }),
      'apps/web/deployment.yaml': deploymentYaml('web', { replicas: 1 }),
      'apps/notes.txt': 'not a manifest',
      // no `protocol` on the port: the agent fills in what server-side apply on 1.20 needs
      'apps/web/service.yaml':
        'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: { app: web }\n  ports: [{ port: 80 }]\n',
    });

    dbPath = join(work, 'hub.db');
    hub = await startTheHub('127.0.0.1:0');
    hubAddress = hub.address;
    client = createHubClient(hubAddress, { token: adminToken });

    await client.tenants.createTenant({ tenant: { name: 'team-a', namespaces: ['team-a'] } });
    await client.tenants.createTenant({ tenant: { name: 'team-b', namespaces: ['team-b'] } });
    await client.clusters.createCluster({ cluster: { name: CLUSTER, labels: { env: 'test' } } });
    joinToken = (await client.clusters.createJoinToken({ cluster: CLUSTER })).token;
    startAgentProcess();
    await client.repos.createRepo({
      repo: {
        tenant: 'team-a',
        name: 'apps',
        url: repo.url,
        branch: 'main',
        credentials: { username: 'fleet', password: 'e2e-pass' },
      },
    });
    await client.assignments.createAssignment({
      assignment: {
        tenant: 'team-a',
        name: 'apps',
        repo: 'apps',
        path: 'apps',
        selector: { env: 'test' },
        prune: true,
      },
    });
  });

  afterAll(async () => {
    client?.close();
    await stopAgentProcess('SIGTERM');
    await hub?.close();
    await servers?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('applies the revision into the tenant namespace with field manager gitfleet, as the tenant', async () => {
    const head = await repo.head();
    const s = await waitStatus(readyAt(head), `revision ${head} Ready`);
    expect(s.changes).toEqual({ created: 4, configured: 0, unchanged: 0, deleted: 0 });
    expect(s.objects).toBe(4);
    // the agent's conditions, as Flux would set them after a successful apply
    const ready = findCondition(s.conditions, ConditionType.Ready);
    expect(ready).toMatchObject({
      status: ConditionStatus.True,
      reason: Reason.ReconciliationSucceeded,
      observedGeneration: s.observedGeneration,
    });
    expect(ready?.lastTransitionTimeMs).toBeGreaterThan(0);
    expect(findCondition(s.conditions, ConditionType.Reconciling)).toBeUndefined();
    expect(findCondition(s.conditions, ConditionType.Stalled)).toBeUndefined();
    const cm = await readCm('team-a', 'settings');
    expect(cm.data).toEqual({ color: 'blue' });
    expect(cm.metadata?.managedFields?.map((f) => f.manager)).toContain('gitfleet');
    expect(cm.metadata?.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'gitfleet',
      'gitfleet.dev/tenant': 'team-a',
    });
    const web = await kc
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ namespace: 'team-a', name: 'web' });
    expect(web.spec?.replicas).toBe(1);
    // onboarding: the tenant's ServiceAccount and its RoleBinding exist
    await core.readNamespacedServiceAccount({ namespace: 'team-a', name: 'gitfleet-reconciler' });
  });

  it('rolls out a new commit', async () => {
    const sha = await pushAndResolve(
      {
        'apps/config.yaml': configMapYaml('settings', { color: 'green' }),
        'apps/web/deployment.yaml': deploymentYaml('web', { replicas: 3 }),
      },
      'green, 3 replicas',
    );
    const s = await waitStatus(readyAt(sha), 'the second commit Ready');
    expect(s.changes).toEqual({ created: 0, configured: 2, unchanged: 2, deleted: 0 });
    expect((await readCm('team-a', 'settings')).data).toEqual({ color: 'green' });
  });

  it('applies a dependsOn chain in order: site waits for db (suspended), then applies once db is Ready', async () => {
    await pushAndResolve(
      {
        'order/db/cm.yaml': configMapYaml('order-db', { role: 'db' }),
        'order/site/cm.yaml': configMapYaml('order-site', { role: 'site' }),
      },
      'an ordered pair',
    );
    const spec = (name: string, fields: Partial<Assignment>) => ({
      assignment: {
        tenant: 'team-a',
        name,
        repo: 'apps',
        path: `order/${name}`,
        selector: { env: 'test' },
        prune: true,
        ...fields,
      },
    });
    const status = async (assignment: string) =>
      (await client.status.getStatus({ tenant: 'team-a', cluster: CLUSTER, assignment })).statuses[0];
    await client.assignments.createAssignment(spec('db', { suspend: true }));
    await client.assignments.createAssignment(spec('site', { dependsOn: ['db'] }));
    const waiting = await eventually(
      async () => {
        const s = await status('site');
        return s?.reason === Reason.DependencyNotReady ? s : undefined;
      },
      { timeoutMs: 60_000, describe: agentLog },
    );
    expect(waiting.state).toBe(AssignmentState.ASSIGNMENT_STATE_PENDING);
    expect(waiting.message).toBe(
      'waiting for team-a/db (Suspended: suspended: nothing is applied or pruned)',
    );
    expect(waiting.waitingFor).toEqual(['team-a/db']);
    await expect(readCm('team-a', 'order-site')).rejects.toMatchObject({ code: 404 });
    // the hub refuses a cycle and deleting what site depends on
    await expect(
      client.assignments.updateAssignment(spec('db', { dependsOn: ['site'] })),
    ).rejects.toMatchObject({
      details: 'assignment.depends_on: dependency cycle db → site → db: an assignment cannot wait for itself',
    });
    await expect(client.assignments.deleteAssignment({ tenant: 'team-a', name: 'db' })).rejects.toMatchObject(
      {
        code: 9, // FAILED_PRECONDITION
      },
    );

    await client.assignments.updateAssignment(spec('db', { suspend: false }));
    const site = await eventually(
      async () => {
        const s = await status('site');
        return s?.state === AssignmentState.ASSIGNMENT_STATE_READY ? s : undefined;
      },
      { timeoutMs: 60_000, describe: agentLog },
    );
    const db = await status('db');
    expect(db.state).toBe(AssignmentState.ASSIGNMENT_STATE_READY);
    expect(site.startedAtMs).toBeGreaterThanOrEqual(db.finishedAtMs);
    expect((await readCm('team-a', 'order-site')).data).toEqual({ role: 'site' });

    // dependents first, then the dependency
    await client.assignments.deleteAssignment({ tenant: 'team-a', name: 'site' });
    await client.assignments.deleteAssignment({ tenant: 'team-a', name: 'db' });
    await eventually(
      async () => {
        try {
          await readCm('team-a', 'order-db');
          return undefined;
        } catch {
          return true;
        }
      },
      { timeoutMs: 60_000, describe: agentLog },
    );
  });

  it('prunes the objects of a removed file', async () => {
    const sha = await pushAndResolve({ 'apps/extra.yaml': null }, 'remove extra');
    const s = await waitStatus(readyAt(sha), 'the prune commit Ready');
    expect(s.changes?.deleted).toBe(1);
    await eventually(async () => !(await exists(() => readCm('team-a', 'extra'))));
  });

  it('reconciles now with --with-source through the authenticated bus, then diffs and trees the assignment', async () => {
    const sha = await repo.commit({ 'apps/now.yaml': configMapYaml('now', { at: 'once' }) }, 'reconcile now');
    // no ResolveRepo: reconcile --with-source resolves, publishes, and waits for the agent's pass
    const res = await client.assignments.reconcileAssignment(
      { tenant: 'team-a', name: 'apps', withSource: true, timeoutSeconds: 60 },
      { deadline: Date.now() + 90_000 },
    );
    expect(res.outcomes).toHaveLength(1);
    expect(res.outcomes[0]).toMatchObject({ cluster: CLUSTER, error: '', timedOut: false });
    expect(res.outcomes[0].status).toMatchObject({ state: AssignmentState.ASSIGNMENT_STATE_READY });
    expect(res.outcomes[0].status!.appliedRevision).toBe(`main@sha1:${sha}`);
    expect((await readCm('team-a', 'now')).data).toEqual({ at: 'once' });

    const diff = await client.assignments.diffAssignment({
      tenant: 'team-a',
      name: 'apps',
      cluster: CLUSTER,
    });
    expect(diff.revision).toBe(`main@sha1:${sha}`);
    expect(new Set(diff.objects.map((o) => o.action))).toEqual(new Set(['unchanged']));
    const tree = await client.assignments.treeAssignment({
      tenant: 'team-a',
      name: 'apps',
      cluster: CLUSTER,
    });
    expect(tree.objects.map((o) => `${o.kind}/${o.name}`)).toContain('ConfigMap/now');
    // kstatus health: ConfigMaps exist; the Deployment's pods never become ready (no kubelet here)
    for (const o of tree.objects)
      expect([o.kind, o.health]).toEqual([o.kind, o.kind === 'Deployment' ? 'InProgress' : 'Current']);
    // back to the objects the next tests count
    await waitStatus(readyAt(await pushAndResolve({ 'apps/now.yaml': null }, 'no more now')), 'now removed');
  });

  it("refuses a manifest aimed at another tenant's namespace and says why", async () => {
    const good = (await statusOf())!.appliedRevision;
    const sha = await pushAndResolve(
      { 'apps/evil.yaml': configMapYaml('shared', { owner: 'team-a' }, 'team-b') },
      'reach into team-b',
    );
    const s = await waitStatus(
      (x) => x.state === AssignmentState.ASSIGNMENT_STATE_FAILED && x.desiredRevision.endsWith(sha),
      'the policy refusal',
    );
    expect(s.reason).toBe(Reason.PolicyViolation);
    expect(findCondition(s.conditions, ConditionType.Ready)).toMatchObject({
      status: ConditionStatus.False,
      reason: Reason.PolicyViolation,
    });
    expect(s.message).toContain(
      `apps/evil.yaml (document 1): ConfigMap team-b/shared: namespace "team-b" is not one of tenant team-a's namespaces (team-a)`,
    );
    expect(s.appliedRevision).toBe(good);
    expect((await readCm('team-b', 'shared')).data).toEqual({ owner: 'team-b' });
    const fixed = await pushAndResolve({ 'apps/evil.yaml': null }, 'back to our own namespace');
    await waitStatus(readyAt(fixed), 'Ready again after the fix');
  });

  it('keeps the last good revision applied when a commit has malformed YAML, naming file and line', async () => {
    const good = (await statusOf())!.appliedRevision;
    const sha = await pushAndResolve(
      {
        'apps/broken.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata:\n  a: [unclosed\n',
        'apps/config.yaml': configMapYaml('settings', { color: 'red' }),
      },
      'broken yaml',
    );
    const s = await waitStatus(
      (x) => x.state === AssignmentState.ASSIGNMENT_STATE_FAILED && x.desiredRevision.endsWith(sha),
      'the build failure',
    );
    expect(s.reason).toBe('BuildFailed');
    expect(s.message).toContain('apps/broken.yaml');
    expect(s.message).toMatch(/line \d+/);
    expect(s.appliedRevision).toBe(good);
    // nothing of the broken revision was applied, nothing of the good one removed
    expect((await readCm('team-a', 'settings')).data).toEqual({ color: 'green' });
    const fixed = await pushAndResolve(
      { 'apps/broken.yaml': null, 'apps/config.yaml': configMapYaml('settings', { color: 'green' }) },
      'fix yaml',
    );
    await waitStatus(readyAt(fixed), 'Ready again after the fix');
  });

  it('converges after the agent is killed mid-reconcile', async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 150; i++)
      many[`apps/bulk/cm-${i}.yaml`] = configMapYaml(`bulk-${i}`, { i: String(i) });
    const sha = await pushAndResolve(many, '150 more objects');
    // kill it as soon as the first of the new objects exists
    await eventually(
      async () =>
        (
          await core.listNamespacedConfigMap({
            namespace: 'team-a',
            labelSelector: 'gitfleet.dev/assignment=apps',
          })
        ).items.some((c) => c.metadata?.name?.startsWith('bulk-')),
      {
        timeoutMs: 60_000,
        intervalMs: 20,
      },
    );
    await stopAgentProcess('SIGKILL');
    startAgentProcess();
    const s = await waitStatus(readyAt(sha), 'Ready after the restart');
    expect(s.objects).toBe(153);
    const bulk = (await core.listNamespacedConfigMap({ namespace: 'team-a' })).items.filter((c) =>
      c.metadata?.name?.startsWith('bulk-'),
    );
    expect(bulk).toHaveLength(150);
  });

  it('picks up a change made while nats-server was down', async () => {
    await nats.stop();
    const sha = await repo.commit(
      { 'apps/config.yaml': configMapYaml('settings', { color: 'purple' }) },
      'while the bus is down',
    );
    const r = await client.repos.resolveRepo({ tenant: 'team-a', name: 'apps' });
    expect(r.revision).toBe(`main@sha1:${sha}`);
    await nats.restart();
    await waitStatus(readyAt(sha), 'the change made during the outage Ready');
    expect((await readCm('team-a', 'settings')).data).toEqual({ color: 'purple' });
  });

  it('loses nothing when the hub restarts', async () => {
    const before = await statusOf();
    const nc = await connect({
      servers: nats.url,
      authenticator: credsAuthenticator(readFileSync(bus.hubCreds)),
    });
    const kv = await new Kvm(jetstream(nc)).open(DESIRED_BUCKET);
    const generation = async () => DesiredSet.decode((await kv.get(desiredKey(CLUSTER)))!.value).generation;
    const genBefore = await generation();
    try {
      client.close();
      await hub.close();
      hub = await startTheHub(hubAddress);
      client = createHubClient(hub.address, { token: adminToken });
      expect((await client.tenants.listTenants({})).tenants.map((t) => t.name).sort()).toEqual([
        'team-a',
        'team-b',
      ]);
      expect(
        (await client.assignments.listAssignments({ tenant: 'team-a' })).assignments.map((a) => a.name),
      ).toEqual(['apps']);
      expect((await client.repos.getRepo({ tenant: 'team-a', name: 'apps' })).hasCredentials).toBe(true);
      const after = await statusOf();
      expect(after?.appliedRevision).toBe(before?.appliedRevision);
      expect(after?.state).toBe(AssignmentState.ASSIGNMENT_STATE_READY);
      // re-projection on start publishes nothing new when nothing changed
      expect(await generation()).toBe(genBefore);
      const sha = await pushAndResolve(
        { 'apps/config.yaml': configMapYaml('settings', { color: 'orange' }) },
        'after the hub restart',
      );
      await waitStatus(readyAt(sha), 'a commit after the hub restart Ready');
      expect(await generation()).toBeGreaterThan(genBefore);
    } finally {
      await nc.close();
    }
  });

  it('joined once with its token, keeping the credentials in a Secret of its namespace', async () => {
    const secret = await core.readNamespacedSecret({
      namespace: 'gitfleet-system',
      name: `gitfleet-bus-${CLUSTER}`,
    });
    const creds = Buffer.from(secret.data!['user.creds'], 'base64').toString('utf8');
    expect(creds).toContain('USER NKEY SEED');
    const cluster = await client.clusters.getCluster({ name: CLUSTER });
    expect(cluster.agentPublicKey).toMatch(/^U/);
    expect(cluster.joinedAtMs).toBeGreaterThan(0);
    // the agent restarted (killed mid-reconcile) since: the used token did not have to work again
    expect(readFileSync(join(work, 'agent.log'), 'utf8')).toContain('using the stored bus credentials');
  });

  it('cuts the agent off when the cluster is revoked; a new join token brings it back', async () => {
    await client.clusters.revokeCluster({ name: CLUSTER });
    await eventually(
      () => readFileSync(join(work, 'agent.log'), 'utf8').includes("NATS refused this agent's credentials"),
      {
        timeoutMs: 30_000,
        describe: agentLog,
      },
    );
    const sha = await pushAndResolve(
      { 'apps/config.yaml': configMapYaml('settings', { color: 'teal' }) },
      'while the agent is revoked',
    );
    joinToken = (await client.clusters.createJoinToken({ cluster: CLUSTER })).token;
    await stopAgentProcess('SIGTERM');
    startAgentProcess();
    await waitStatus(readyAt(sha), 'the commit made while revoked Ready after joining again');
    expect((await readCm('team-a', 'settings')).data).toEqual({ color: 'teal' });
  });

  it('prunes everything when the assignment is deleted', async () => {
    await client.assignments.deleteAssignment({ tenant: 'team-a', name: 'apps' });
    await eventually(async () => !(await exists(() => readCm('team-a', 'settings'))), {
      timeoutMs: 60_000,
      describe: agentLog,
    });
    await eventually(
      async () =>
        !(await exists(() =>
          kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: 'team-a', name: 'web' }),
        )),
    );
    await eventually(
      async () =>
        (
          await core.listNamespacedConfigMap({
            namespace: 'team-a',
            labelSelector: 'gitfleet.dev/assignment=apps',
          })
        ).items.length === 0,
    );
    expect((await readCm('team-b', 'shared')).data).toEqual({ owner: 'team-b' });
    expect((await client.status.getStatus({ tenant: 'team-a' })).statuses).toHaveLength(0);
  });

  it('never writes the repo credentials, the join token or its NATS seed to the agent log', async () => {
    const log = readFileSync(join(work, 'agent.log'), 'utf8');
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toContain('e2e-pass');
    expect(log).not.toContain(joinToken.slice(21));
    const secret = await core.readNamespacedSecret({
      namespace: 'gitfleet-system',
      name: `gitfleet-bus-${CLUSTER}`,
    });
    const seed = /SU[A-Z0-9]{50,}/.exec(
      Buffer.from(secret.data!['user.creds'], 'base64').toString('utf8'),
    )![0];
    expect(log).not.toContain(seed);
    expect(log).not.toContain(Buffer.from('fleet:e2e-pass').toString('base64'));
  });
});
