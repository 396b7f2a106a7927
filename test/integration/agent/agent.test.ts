// The agent end to end against a real kube-apiserver, nats-server and git server: the test plays
// the hub (puts DesiredSets into the KV bucket, reads StatusReports from the stream).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import {
  AssignmentState,
  Reason,
  formatGitRevision,
  type AssignmentStatus,
  type DeepPartial,
  type DesiredAssignment,
  type DesiredSet,
} from '../../../proto/index.js';
import { startAgent, type RunningAgent } from '../../../agent/main.js';
import { inventoryName } from '../../../agent/apply/inventory.js';
import {
  eventually,
  startGit,
  startKube,
  startNats,
  type GitEnv,
  type GitRepo,
  type KubeEnv,
  type NatsEnv,
} from '../../env/index.js';
import { HubDouble, describeStatus } from './hub-double.js';

const CLUSTER = 'edge-1';
const GIT_USER = 'fleet-bot';
const GIT_PASSWORD = 'pa55-word-for-tests';
const RESYNC_SECONDS = 2;

const cm = (name: string, value: string, namespace?: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ''}data:\n  value: "${value}"\n`;

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
`;

const tenants = [
  {
    name: 'team-a',
    namespaces: ['team-a', 'team-a-extra'],
    serviceAccount: 'gitfleet-reconciler',
    clusterRole: 'admin',
  },
  { name: 'team-b', namespaces: ['team-b'], serviceAccount: 'gitfleet-reconciler', clusterRole: 'admin' },
];

function isNotFound(err: unknown): boolean {
  const e = err as { code?: number };
  return e.code === 404;
}

/**
 * Resources only gitfleet writes in these tests (ServiceAccounts and Secrets are left out: the
 * controller-manager's token controller writes those on its own schedule).
 */
const WATCHED_RESOURCES = ['configmaps', 'deployments', 'namespaces', 'rolebindings'];

describe('agent', () => {
  let kube: KubeEnv;
  let nats: NatsEnv;
  let git: GitEnv;
  let repo: GitRepo;
  let hub: HubDouble;
  let agent: RunningAgent | undefined;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let cacheDir: string;
  const localStatuses: AssignmentStatus[] = [];
  let statusesBeforeOutage = 0;

  const start = async () => {
    const a = await startAgent({
      cluster: CLUSTER,
      natsUrl: nats.url,
      kubeconfigPath: kube.kubeconfigPath,
      cacheDir,
      resyncSeconds: RESYNC_SECONDS,
      heartbeatSeconds: 1,
      logLevel: process.env.GITFLEET_LOG_LEVEL ?? 'warn',
    });
    a.events.on('status', (s) => localStatuses.push(s));
    return a;
  };

  const web = (commit: string, extra: Partial<DesiredAssignment> = {}): DeepPartial<DesiredAssignment> => ({
    tenant: 'team-a',
    name: 'web',
    repo: 'apps',
    source: {
      type: 'git',
      url: repo.url,
      commit,
      revision: formatGitRevision('main', commit),
      credentials: { username: GIT_USER, password: GIT_PASSWORD },
    },
    path: 'apps',
    targetNamespace: 'team-a',
    prune: true,
    renderer: 'plain',
    ...extra,
  });
  const desired = (...assignments: DeepPartial<DesiredAssignment>[]): DeepPartial<DesiredSet> => ({
    tenants,
    assignments,
  });

  const ready = (commit: string, after: number) =>
    hub.waitForStatus(
      (s) =>
        s.assignment === 'web' &&
        s.state === AssignmentState.ASSIGNMENT_STATE_READY &&
        s.desiredRevision === formatGitRevision('main', commit),
      { after },
    );

  const configMap = async (namespace: string, name: string) => {
    try {
      return await core.readNamespacedConfigMap({ namespace, name });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };

  beforeAll(async () => {
    [kube, nats, git] = await Promise.all([
      startKube(),
      startNats(),
      startGit({ username: GIT_USER, password: GIT_PASSWORD }),
    ]);
    kc = kube.kubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    cacheDir = mkdtempSync(join(tmpdir(), 'gitfleet-agent-test-'));
    repo = await git.createRepo('apps', {
      'apps/config.yaml': `${cm('settings', 'one')}---\n${cm('flags', 'on')}`,
      'apps/deploy.yaml': deployment,
      'README.md': '# not a manifest\n',
    });
    hub = new HubDouble(nats.url, CLUSTER);
    await hub.connect();
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await hub?.close();
    await Promise.allSettled([kube?.stop(), nats?.destroy(), git?.stop()]);
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  }, 60_000);

  it('applies a revision as the tenant, with field manager gitfleet, once the hub creates the bucket', async () => {
    // the agent comes up before the hub has created its bucket and stream
    agent = await start();
    await hub.createBus();
    const commit = await repo.head();
    await hub.publish(desired(web(commit)));

    const status = await ready(commit, 0);
    expect(status.changes).toEqual({ created: 3, configured: 0, unchanged: 0, deleted: 0 });
    expect(status.objects).toBe(3);
    expect(status.appliedRevision).toBe(formatGitRevision('main', commit));
    expect(status.observedGeneration).toBe(1);
    expect(status.cluster).toBe(CLUSTER);
    expect(status.finishedAtMs).toBeGreaterThanOrEqual(status.startedAtMs);

    const settings = await configMap('team-a', 'settings');
    expect(settings?.data).toEqual({ value: 'one' });
    expect(settings?.metadata?.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'gitfleet',
      'gitfleet.dev/tenant': 'team-a',
      'gitfleet.dev/assignment': 'web',
    });
    expect(settings?.metadata?.managedFields?.map((f) => [f.manager, f.operation])).toEqual([
      ['gitfleet', 'Apply'],
    ]);
    const dep = await apps.readNamespacedDeployment({ namespace: 'team-a', name: 'web' });
    expect(dep.spec?.replicas).toBe(2);

    // tenant onboarding: namespaces, ServiceAccount, RoleBindings
    await core.readNamespace({ name: 'team-a-extra' });
    await core.readNamespacedServiceAccount({ namespace: 'team-a', name: 'gitfleet-reconciler' });
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const rb = await rbac.readNamespacedRoleBinding({ namespace: 'team-a-extra', name: 'gitfleet-team-a' });
    expect(rb.roleRef.name).toBe('admin');
    expect(rb.subjects).toEqual([
      expect.objectContaining({ kind: 'ServiceAccount', name: 'gitfleet-reconciler', namespace: 'team-a' }),
    ]);

    // the inventory, in the agent's namespace
    const inv = await configMap('gitfleet-system', inventoryName('team-a', 'web'));
    expect(JSON.parse(inv!.data!['inventory.json']).objects).toHaveLength(3);

    // heartbeats carry the generation and the version
    await eventually(() => hub.heartbeats.find((h) => h.observedGeneration === 1));
    expect(hub.heartbeats.at(-1)).toMatchObject({ cluster: CLUSTER, agentVersion: '0.1.0' });
  });

  it('re-reconciles an unchanged revision without writing and without fetching', async () => {
    const commit = await repo.head();
    const before = hub.statuses.length;
    await ready(commit, before); // let one resync pass finish first
    const writes = await kube.writeRequests(WATCHED_RESOURCES);
    const fetches = git.requests();
    const rv = (await configMap('team-a', 'settings'))?.metadata?.resourceVersion;

    const after = hub.statuses.length;
    const status = await ready(commit, after);
    expect(status.changes).toEqual({ created: 0, configured: 0, unchanged: 3, deleted: 0 });
    expect(await kube.writeRequests(WATCHED_RESOURCES)).toBe(writes);
    expect(git.requests()).toBe(fetches);
    expect((await configMap('team-a', 'settings'))?.metadata?.resourceVersion).toBe(rv);
  });

  it('applies a second commit with the right change counts', async () => {
    const commit = await repo.commit({
      'apps/config.yaml': `${cm('settings', 'two')}---\n${cm('flags', 'on')}`,
      'apps/more/extra.yaml': cm('extra', 'x', 'team-a-extra'),
    });
    const before = hub.statuses.length;
    await hub.publish(desired(web(commit)));
    const status = await ready(commit, before);
    expect(status.changes).toEqual({ created: 1, configured: 1, unchanged: 2, deleted: 0 });
    expect(status.objects).toBe(4);
    expect((await configMap('team-a', 'settings'))?.data).toEqual({ value: 'two' });
    expect(await configMap('team-a-extra', 'extra')).toBeDefined();
    // a PROGRESSING report came first
    expect(
      hub.statuses
        .slice(before)
        .some(
          (s) =>
            s.state === AssignmentState.ASSIGNMENT_STATE_PROGRESSING && s.desiredRevision.endsWith(commit),
        ),
    ).toBe(true);
  });

  it('prunes the objects of a removed file', async () => {
    const commit = await repo.commit({ 'apps/deploy.yaml': null });
    const before = hub.statuses.length;
    await hub.publish(desired(web(commit)));
    const status = await ready(commit, before);
    expect(status.changes).toMatchObject({ created: 0, configured: 0, deleted: 1 });
    expect(status.objects).toBe(3);
    await expect(apps.readNamespacedDeployment({ namespace: 'team-a', name: 'web' })).rejects.toMatchObject({
      code: 404,
    });
  });

  it('applies and prunes nothing while the assignment is suspended', async () => {
    const good = await repo.head();
    const paused = await repo.commit({ 'apps/paused.yaml': cm('paused', 'x') });
    let before = hub.statuses.length;
    await hub.publish(desired(web(paused, { suspend: true })));
    const status = await hub.waitForStatus(
      (s) => s.state === AssignmentState.ASSIGNMENT_STATE_SUSPENDED && s.desiredRevision.endsWith(paused),
      { after: before },
    );
    expect(status.reason).toBe(Reason.Suspended);
    expect(status.appliedRevision).toBe(formatGitRevision('main', good));
    expect(await configMap('team-a', 'paused')).toBeUndefined();

    const resumed = await repo.commit({ 'apps/paused.yaml': null });
    before = hub.statuses.length;
    await hub.publish(desired(web(resumed)));
    expect((await ready(resumed, before)).changes).toMatchObject({ created: 0, configured: 0, deleted: 0 });
  });

  it("refuses a manifest aimed at another tenant's namespace (RBAC), leaving that namespace untouched", async () => {
    const good = await repo.head();
    const commit = await repo.commit({ 'apps/evil.yaml': cm('evil', 'x', 'team-b') });
    const before = hub.statuses.length;
    await hub.publish(desired(web(commit)));
    const status = await hub.waitForStatus(
      (s) => s.state === AssignmentState.ASSIGNMENT_STATE_FAILED && s.desiredRevision.endsWith(commit),
      { after: before },
    );
    expect(status.reason).toBe(Reason.ApplyFailed);
    expect(status.message).toContain('apply ConfigMap team-b/evil (from apps/evil.yaml): ');
    expect(status.message).toContain('forbidden');
    expect(status.message).toContain('system:serviceaccount:team-a:gitfleet-reconciler');
    expect(status.appliedRevision).toBe(formatGitRevision('main', good));
    expect(await configMap('team-b', 'evil')).toBeUndefined();
    // the rest of the revision applied
    expect(await configMap('team-a', 'settings')).toBeDefined();
  });

  it('keeps the previous revision applied when a commit has malformed YAML, naming file and line', async () => {
    const good = await repo.commit({ 'apps/evil.yaml': null });
    let before = hub.statuses.length;
    await hub.publish(desired(web(good)));
    await ready(good, before);

    const bad = await repo.commit({
      'apps/config.yaml': `${cm('settings', 'three')}---\n${cm('flags', 'on')}`,
      'apps/broken.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken: yes\n',
    });
    before = hub.statuses.length;
    await hub.publish(desired(web(bad)));
    const status = await hub.waitForStatus(
      (s) => s.state === AssignmentState.ASSIGNMENT_STATE_FAILED && s.desiredRevision.endsWith(bad),
      { after: before },
    );
    expect(status.reason).toBe(Reason.BuildFailed);
    expect(status.message).toMatch(/^apps\/broken\.yaml: YAML syntax error at line 4, column \d+: /);
    expect(status.appliedRevision).toBe(formatGitRevision('main', good));
    // nothing of the broken revision was applied
    expect((await configMap('team-a', 'settings'))?.data).toEqual({ value: 'two' });
  });

  it('prunes everything when the assignment leaves the desired set', async () => {
    const fixed = await repo.commit({ 'apps/broken.yaml': null });
    let before = hub.statuses.length;
    await hub.publish(desired(web(fixed)));
    await ready(fixed, before);
    expect((await configMap('team-a', 'settings'))?.data).toEqual({ value: 'three' });

    before = hub.statuses.length;
    await hub.publish(desired());
    const status = await hub.waitForStatus((s) => s.assignment === 'web' && s.reason === Reason.Deleted, {
      after: before,
    });
    expect(status.changes?.deleted).toBe(3);
    expect(await configMap('team-a', 'settings')).toBeUndefined();
    expect(await configMap('team-a-extra', 'extra')).toBeUndefined();
    expect(await configMap('gitfleet-system', inventoryName('team-a', 'web'))).toBeUndefined();
    // tenant namespaces stay
    await core.readNamespace({ name: 'team-a' });
  });

  it('reconciles its persisted desired set after a restart while NATS is down', async () => {
    const commit = await repo.head();
    const before = hub.statuses.length;
    await hub.publish(desired(web(commit)));
    await ready(commit, before);

    await agent!.stop();
    agent = undefined;
    statusesBeforeOutage = hub.statuses.length;
    await nats.kill();
    // drift while nobody watches
    await core.deleteNamespacedConfigMap({ namespace: 'team-a', name: 'settings' });

    const local = localStatuses.length;
    agent = await start();
    await eventually(() => configMap('team-a', 'settings'), { timeoutMs: 30_000 });
    const s = await eventually(() =>
      localStatuses.slice(local).find((x) => x.state === AssignmentState.ASSIGNMENT_STATE_READY),
    );
    expect(s.changes?.created).toBe(1);
  });

  it('picks up a change published while it was disconnected, once NATS is back', async () => {
    // NATS is down since the previous test; the agent keeps trying to connect
    await nats.restart();
    const commit = await repo.commit({
      'apps/config.yaml': `${cm('settings', 'four')}---\n${cm('flags', 'on')}`,
    });
    const before = hub.statuses.length;
    await eventually(async () => {
      await hub.publish(desired(web(commit)));
      return true;
    });
    const status = await ready(commit, before);
    expect(status.changes).toMatchObject({ configured: 1 });
    expect((await configMap('team-a', 'settings'))?.data).toEqual({ value: 'four' });
    // statuses made while NATS was down reached the stream as well
    expect(
      hub.statuses
        .slice(statusesBeforeOutage)
        .some((x) => x.changes?.created === 1 && x.state === AssignmentState.ASSIGNMENT_STATE_READY),
    ).toBe(true);
  });

  it('leaves the objects of a removed assignment in place when it did not prune', async () => {
    const webCommit = await repo.head();
    const commit = await repo.commit({ 'keep/kept.yaml': cm('kept', 'x') });
    const keep = web(commit, { name: 'keep', path: 'keep', prune: false });
    let before = hub.statuses.length;
    await hub.publish(desired(web(webCommit), keep));
    await hub.waitForStatus(
      (s) => s.assignment === 'keep' && s.state === AssignmentState.ASSIGNMENT_STATE_READY,
      {
        after: before,
      },
    );
    expect(await configMap('team-a', 'kept')).toBeDefined();

    before = hub.statuses.length;
    await hub.publish(desired(web(webCommit)));
    const status = await hub.waitForStatus((s) => s.assignment === 'keep' && s.reason === Reason.Deleted, {
      after: before,
    });
    expect(status.message).toContain('prune is off');
    expect(await configMap('team-a', 'kept')).toBeDefined();
    expect(await configMap('gitfleet-system', inventoryName('team-a', 'keep'))).toBeUndefined();
  });

  it('reports TenantSetupFailed when a tenant cannot be set up', async () => {
    const webCommit = await repo.head();
    const before = hub.statuses.length;
    await hub.publish({
      tenants: [
        ...tenants,
        { name: 'team-c', namespaces: ['Not_A_Namespace'], serviceAccount: 'gitfleet-reconciler' },
      ],
      assignments: [web(webCommit), web(webCommit, { tenant: 'team-c', name: 'site', targetNamespace: '' })],
    });
    const status = await hub.waitForStatus(
      (s) => s.tenant === 'team-c' && s.state === AssignmentState.ASSIGNMENT_STATE_FAILED,
      {
        after: before,
      },
    );
    expect(status.reason).toBe(Reason.TenantSetupFailed);
    expect(status.message).toContain('set up tenant team-c: apply Namespace Not_A_Namespace');
    // other tenants are not held up
    await ready(webCommit, before);
  });

  it('stops idempotently', async () => {
    const a = agent!;
    await Promise.all([a.stop(), a.stop()]);
    await a.stop();
    agent = undefined;
    // the last word from the agent for team-a/web was a success
    const last = hub.statuses.filter((x) => x.tenant === 'team-a' && x.assignment === 'web').at(-1)!;
    expect(describeStatus(last)).toContain('ASSIGNMENT_STATE_READY');
  });
});
