// Health, drift and rollback end to end, as a user drives them with the built `gitfleet` CLI: a hub
// process's API on a real nats-server (bus auth), git server and kube-apiserver, and the
// `gitfleet agent` process with deploy/agent's RBAC applying as the tenant. The agent's resync is
// 10 minutes, so whatever is corrected here within the test was found by its drift watch. There is
// no kubelet: a Deployment becomes healthy when the test writes its pods' status, as envtest does.
// Timings (foreign write → correction) are measured by the bench, never asserted here.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, execFile as execFileCb, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { AppsV1Api, CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import type { ClientReadableStream } from '@grpc/grpc-js';
import { initBus, startHub, type BusInitResult, type RunningHub } from '../../hub/main.js';
import { createHubClient, type HubClient } from '../../cli/client/hub-client.js';
import { testAdminToken } from '../integration/hub/harness.js';
import { AssignmentState, Reason, shortRevision, type AssignmentStatus } from '../../proto/index.js';
import {
  eventually,
  makePodsReady,
  startServers,
  type GitRepo,
  type KubeEnv,
  type Servers,
} from '../env/index.js';
import { configMapYaml, deploymentYaml } from '../fixtures/manifests.js';

const execFile = promisify(execFileCb);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const CLUSTER = 'e2e-ctl';
const TENANT = 'team-a';

/** A status as `gitfleet status -o json` prints it: the state by name. */
type PrintedStatus = Omit<AssignmentStatus, 'state'> & { state: string };

describe('gitfleet end to end: health, drift and rollback', () => {
  let servers: Servers | undefined;
  let kube: KubeEnv;
  let hub: RunningHub | undefined;
  let client: HubClient | undefined;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let work: string;
  let agent: ChildProcess | undefined;
  let bus: BusInitResult;
  /** Every status the hub streamed for the tenant, in order. */
  const seen: AssignmentStatus[] = [];
  let watch: ClientReadableStream<AssignmentStatus> | undefined;
  const adminToken = testAdminToken();

  const agentLog = () =>
    existsSync(join(work, 'agent.log'))
      ? readFileSync(join(work, 'agent.log'), 'utf8').split('\n').slice(-40).join('\n')
      : '';

  /** Runs the built CLI against the hub as the admin; resolves with its stdout. */
  const gitfleet = async (...args: string[]): Promise<string> => {
    try {
      const { stdout } = await execFile(process.execPath, [cli, ...args], {
        env: { ...process.env, GITFLEET_HUB: hub!.address, GITFLEET_TOKEN: adminToken },
        timeout: 120_000,
      });
      return stdout;
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`gitfleet ${args.join(' ')} failed: ${e.stderr || e.message}`);
    }
  };
  /** `gitfleet status --assignment NAME -o json`: the one row of our cluster. */
  const printedStatus = async (assignment: string): Promise<PrintedStatus> => {
    const out = JSON.parse(
      await gitfleet('status', '--tenant', TENANT, '--assignment', assignment, '-o', 'json'),
    ) as { statuses: PrintedStatus[] };
    expect(out.statuses.map((s) => s.cluster)).toEqual([CLUSTER]);
    return out.statuses[0];
  };
  /** The first streamed status of `assignment` (from index `after` on) that satisfies `pred`. */
  const streamed = (
    assignment: string,
    pred: (s: AssignmentStatus) => boolean,
    what: string,
    after = 0,
  ): Promise<AssignmentStatus> =>
    eventually(() => seen.slice(after).find((s) => s.assignment === assignment && pred(s)), {
      timeoutMs: 90_000,
      intervalMs: 100,
      describe: () =>
        `waiting for ${assignment}: ${what}; its last streamed status: ${JSON.stringify(
          seen.filter((s) => s.assignment === assignment).at(-1),
        )}\nagent log:\n${agentLog()}`,
    });
  const readyAt = (revision: string) => (s: AssignmentStatus) =>
    s.state === AssignmentState.ASSIGNMENT_STATE_READY && s.appliedRevision === revision;
  const readCm = (name: string) => core.readNamespacedConfigMap({ namespace: TENANT, name });
  /** A foreign writer: a plain update as the admin, as `kubectl edit` does. */
  const editCm = async (name: string, data: Record<string, string>): Promise<V1ConfigMap> => {
    const live = await readCm(name);
    return core.replaceNamespacedConfigMap({
      namespace: TENANT,
      name,
      body: { ...live, data },
      fieldManager: 'kubectl-edit',
    });
  };
  const kubectl = async (input: string, ...args: string[]): Promise<string> => {
    const run = execFile('kubectl', ['--kubeconfig', kube.kubeconfigPath, ...args]);
    run.child.stdin?.end(input);
    return (await run).stdout;
  };
  const createRepo = async (name: string, files: Record<string, string>): Promise<GitRepo> => {
    const repo = await servers!.git.createRepo(name, files);
    await gitfleet('repo', 'create', name, '--tenant', TENANT, '--url', repo.url, '--branch', 'main');
    return repo;
  };
  /** The revision the hub resolved the repo to (`gitfleet repo resolve`). */
  const resolve = async (repo: string): Promise<string> => {
    const out = JSON.parse(await gitfleet('repo', 'resolve', repo, '--tenant', TENANT, '-o', 'json')) as {
      revision: string;
    };
    return out.revision;
  };

  beforeAll(async () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first (npm test does)`);
    work = mkdtempSync(join(tmpdir(), 'gitfleet-e2e-control-'));
    bus = await initBus({ dir: join(work, 'bus') });
    servers = await startServers({ nats: { configFile: bus.natsConf } });
    kube = servers.kube;
    core = kube.kubeConfig().makeApiClient(CoreV1Api);
    apps = kube.kubeConfig().makeApiClient(AppsV1Api);

    // the agent's identity: exactly deploy/agent's namespace, ServiceAccount and RBAC
    const rendered = (await execFile('kubectl', ['kustomize', join(root, 'deploy', 'agent')])).stdout;
    const identity = parseAllDocuments(rendered)
      .map((d) => d.toJS() as { kind: string })
      .filter((o) => !['Deployment', 'ConfigMap'].includes(o.kind));
    await kubectl(identity.map((o) => JSON.stringify(o)).join('\n'), 'apply', '--server-side', '-f', '-');
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
    const agentKubeconfig = kube.writeKubeconfig('gitfleet-agent', token);

    hub = await startHub({
      listen: '127.0.0.1:0',
      natsUrl: servers.nats.url,
      db: join(work, 'hub.db'),
      logLevel: 'warn',
      adminToken,
      natsCredsFile: bus.hubCreds,
    });
    client = createHubClient(hub.address, { token: adminToken });
    watch = client.status.watchStatus({ tenant: TENANT });
    watch.on('data', (s: AssignmentStatus) => seen.push(s));
    watch.on('error', () => undefined); // cancelled in afterAll

    await gitfleet('tenant', 'create', TENANT, '--namespace', TENANT);
    await gitfleet('cluster', 'create', CLUSTER, '--label', 'env=test');
    const joinToken = (await client.clusters.createJoinToken({ cluster: CLUSTER })).token;
    const fd = openSync(join(work, 'agent.log'), 'a');
    agent = spawn(
      process.execPath,
      [
        cli,
        'agent',
        '--cluster',
        CLUSTER,
        '--join',
        joinToken,
        '--hub',
        hub.address,
        '--kubeconfig',
        agentKubeconfig,
        // far away: only the drift watch can explain a correction within a test
        '--resync',
        '10m',
        '--cache-dir',
        join(work, 'cache'),
        '--fetch-jitter',
        '0',
      ],
      { stdio: ['ignore', fd, fd], env: { ...process.env, GITFLEET_LOG_LEVEL: 'debug' } },
    );
    closeSync(fd);
  });

  afterAll(async () => {
    watch?.cancel();
    client?.close();
    const a = agent;
    if (a && a.exitCode === null) {
      const exited = new Promise((r) => a.once('exit', r));
      a.kill('SIGTERM');
      await exited;
    }
    await hub?.close();
    await servers?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describe('health', () => {
    let rev: string;

    beforeAll(async () => {
      await createRepo('health', {
        'stuck/deploy.yaml': deploymentYaml('stuck', { replicas: 2 }),
        'api/deploy.yaml': deploymentYaml('api', { replicas: 1 }),
      });
      rev = await resolve('health');
    });

    afterAll(async () => {
      // nothing left retrying while the other tests run
      for (const name of ['stuck', 'api'])
        await gitfleet('assignment', 'delete', name, '--tenant', TENANT).catch(() => undefined);
    });

    it('--wait with a short --timeout: Progressing naming the Deployment, then Failed saying why; the revision stays applied', async () => {
      await gitfleet(
        'assignment',
        'create',
        'stuck',
        '--tenant',
        TENANT,
        '--repo',
        'health',
        '--path',
        'stuck',
        '--selector',
        'env=test',
        '--wait',
        '--timeout',
        '8s',
      );
      const waiting = await streamed(
        'stuck',
        (s) => s.reason === Reason.HealthCheckPending,
        'Progressing (HealthCheckPending)',
      );
      expect(waiting.state).toBe(AssignmentState.ASSIGNMENT_STATE_PROGRESSING);
      expect(waiting.appliedRevision).toBe(rev);
      expect(waiting.notReady).toHaveLength(1);
      expect(waiting.notReady[0]).toMatch(/^Deployment\/team-a\/stuck: (updated|available) replicas: 0\/2$/);
      expect(waiting.message).toMatch(
        new RegExp(
          // the first pass created it; a later one (the controller's status write woke it) may be the one shown
          `^applied revision ${escape(shortRevision(rev))}: (1 created, 0 configured, 0 unchanged|0 created, 0 configured, 1 unchanged), 0 deleted; ` +
            `waiting for 1 of 1 object\\(s\\) to be healthy \\(timeout in [0-9hms]+\\): ${escape(waiting.notReady[0])}$`,
        ),
      );

      await streamed(
        'stuck',
        (s) => s.state === AssignmentState.ASSIGNMENT_STATE_FAILED,
        'Failed past the timeout',
      );
      // what the user sees
      const failed = await printedStatus('stuck');
      expect(failed).toMatchObject({
        state: 'Failed',
        reason: Reason.HealthCheckFailed,
        appliedRevision: rev,
        desiredRevision: rev,
      });
      expect(failed.notReady).toEqual([
        expect.stringMatching(/^Deployment\/team-a\/stuck: (updated|available) replicas: 0\/2$/),
      ]);
      expect(failed.message).toBe(
        `health check timed out after 8s: 1 of 1 object(s) not healthy: ${failed.notReady[0]}`,
      );
      const table = await gitfleet('status', '--tenant', TENANT, '--assignment', 'stuck');
      const row = table.split('\n').find((l) => l.startsWith(CLUSTER));
      expect(row).toMatch(/\sFailed\s/);
      expect(row).toContain(failed.message);
      // the revision stays applied
      expect((await apps.readNamespacedDeployment({ namespace: TENANT, name: 'stuck' })).spec?.replicas).toBe(
        2,
      );
    });

    it('--health-check on a Deployment: Progressing until its pods are ready (status written as envtest does), then Ready', async () => {
      const before = seen.length;
      await gitfleet(
        'assignment',
        'create',
        'api',
        '--tenant',
        TENANT,
        '--repo',
        'health',
        '--path',
        'api',
        '--selector',
        'env=test',
        '--health-check',
        'Deployment/team-a/api',
        '--timeout',
        '10m',
      );
      await streamed('api', (s) => s.reason === Reason.HealthCheckPending, 'Progressing', before);
      // stays Progressing until something makes it healthy: what the user sees while it waits
      const waiting = await printedStatus('api');
      expect(waiting).toMatchObject({ state: 'Progressing', reason: Reason.HealthCheckPending });
      expect(waiting.notReady).toEqual([
        expect.stringMatching(/^Deployment\/team-a\/api: (updated|available) replicas: 0\/1$/),
      ]);
      expect(waiting.message).toMatch(
        new RegExp(
          `^applied revision ${escape(shortRevision(rev))}: (1 created, 0 configured, 0 unchanged|0 created, 0 configured, 1 unchanged), 0 deleted; ` +
            `waiting for 1 of 1 object\\(s\\) to be healthy \\(timeout in [0-9hms]+\\): ${escape(waiting.notReady[0])}$`,
        ),
      );

      expect(await makePodsReady(core, TENANT, 'api')).toBe(1);
      await streamed('api', readyAt(rev), 'Ready once its pods are ready', before);
      const ready = await printedStatus('api');
      expect(ready).toMatchObject({ state: 'Ready', reason: Reason.ReconciliationSucceeded, notReady: [] });
      // Ready from a poll (health re-read only) or from a full pass (a resync, a watch event)
      expect(ready.message).toMatch(
        new RegExp(
          `^applied revision ${escape(shortRevision(rev))}(: 0 created, 0 configured, 1 unchanged, 0 deleted| \\(health re-checked, nothing re-applied\\)); 1 object\\(s\\) healthy$`,
        ),
      );
    });
  });

  describe('drift', () => {
    let rev: string;

    beforeAll(async () => {
      await createRepo('drift', {
        'settings/cm.yaml': configMapYaml('settings', { color: 'blue', size: 'm' }),
        'hotfix/cm.yaml': configMapYaml('hotfix', { value: 'one' }),
      });
      rev = await resolve('drift');
      const create = (name: string, ...flags: string[]) =>
        gitfleet(
          'assignment',
          'create',
          name,
          '--tenant',
          TENANT,
          '--repo',
          'drift',
          '--path',
          name,
          '--selector',
          'env=test',
          ...flags,
        );
      await create('settings');
      await create('hotfix', '--drift', 'report');
      await streamed('settings', readyAt(rev), 'Ready');
      await streamed('hotfix', readyAt(rev), 'Ready');
    });

    it('puts back a change another writer made, found by the watch (resync 10m), and lists the object and field as corrected', async () => {
      const before = seen.length;
      await editCm('settings', { color: 'red', size: 'm' });
      await eventually(async () => (await readCm('settings')).data?.color === 'blue', {
        timeoutMs: 60_000,
        describe: agentLog,
      });
      const corrected = await streamed(
        'settings',
        (s) => s.drifted.some((d) => d.object === 'ConfigMap/team-a/settings'),
        'the correction in status',
        before,
      );
      expect(corrected.state).toBe(AssignmentState.ASSIGNMENT_STATE_READY);
      const shown = await printedStatus('settings');
      expect(shown).toMatchObject({
        state: 'Ready',
        reason: Reason.ReconciliationSucceeded,
        appliedRevision: rev,
      });
      expect(shown.drifted).toEqual([
        expect.objectContaining({
          object: 'ConfigMap/team-a/settings',
          fields: ['/data/color'],
          corrected: true,
        }),
      ]);
      expect(shown.message).toBe(
        `applied revision ${shortRevision(rev)}: 0 created, 1 configured, 0 unchanged, 0 deleted; ` +
          'corrected drift on 1 object(s): ConfigMap/team-a/settings /data/color',
      );
      const table = await gitfleet('status', '--tenant', TENANT, '--assignment', 'settings');
      expect(table.split('\n')[0]).toMatch(/\sDRIFTED\s/);
      expect(table).toMatch(/\s1 corrected\s/);
    });

    it('takes a field back from a kubectl server-side apply with another field manager', async () => {
      const before = seen.length;
      await kubectl(
        configMapYaml('settings', { size: 'xl' }, TENANT),
        'apply',
        '--server-side',
        '--force-conflicts',
        '--field-manager',
        'kubectl',
        '-f',
        '-',
      );
      await eventually(async () => (await readCm('settings')).data?.size === 'm', {
        timeoutMs: 60_000,
        describe: agentLog,
      });
      const s = await streamed(
        'settings',
        (x) =>
          x.drifted.some((d) => d.object === 'ConfigMap/team-a/settings' && d.fields.includes('/data/size')),
        'the second correction in status',
        before,
      );
      expect(s.drifted).toEqual([
        expect.objectContaining({
          object: 'ConfigMap/team-a/settings',
          fields: ['/data/size'],
          corrected: true,
        }),
      ]);
      expect(s.message).toBe(
        `applied revision ${shortRevision(rev)}: 0 created, 1 configured, 0 unchanged, 0 deleted; ` +
          'corrected drift on 1 object(s): ConfigMap/team-a/settings /data/size',
      );
      const cm = await readCm('settings');
      expect(cm.data).toEqual({ color: 'blue', size: 'm' });
      // gitfleet owns the field again
      const owner = cm.metadata?.managedFields?.find((f) => JSON.stringify(f.fieldsV1).includes('f:size'));
      expect(owner?.manager).toBe('gitfleet');
    });

    it('--drift report shows the drifted field in status and writes nothing over it', async () => {
      const before = seen.length;
      const written = await editCm('hotfix', { value: 'hot fix' });
      const s = await streamed(
        'hotfix',
        (x) => x.drifted.some((d) => d.object === 'ConfigMap/team-a/hotfix'),
        'the reported drift',
        before,
      );
      expect(s.state).toBe(AssignmentState.ASSIGNMENT_STATE_READY);
      const shown = await printedStatus('hotfix');
      expect(shown.drifted).toEqual([
        expect.objectContaining({
          object: 'ConfigMap/team-a/hotfix',
          fields: ['/data/value'],
          corrected: false,
        }),
      ]);
      expect(shown.message).toBe(
        `applied revision ${shortRevision(rev)}: 0 created, 0 configured, 1 unchanged, 0 deleted; ` +
          'drift on 1 object(s), not corrected (drift mode report): ConfigMap/team-a/hotfix /data/value',
      );
      const table = await gitfleet('status', '--tenant', TENANT, '--assignment', 'hotfix');
      expect(table).toMatch(/\s1 reported\s/);
      // the pass that reported it wrote nothing: the object is as the other writer left it
      const live = await readCm('hotfix');
      expect(live.data).toEqual({ value: 'hot fix' });
      expect(live.metadata?.resourceVersion).toBe(written.metadata?.resourceVersion);
    });
  });

  describe('rollback', () => {
    let repo: GitRepo;
    const revs: string[] = [];
    const release = async () => (await readCm('release')).data?.version;

    beforeAll(async () => {
      repo = await createRepo('roll', { 'app/cm.yaml': configMapYaml('release', { version: '1' }) });
      revs.push(await resolve('roll'));
      await gitfleet(
        'assignment',
        'create',
        'roll',
        '--tenant',
        TENANT,
        '--repo',
        'roll',
        '--path',
        'app',
        '--selector',
        'env=test',
      );
      await streamed('roll', readyAt(revs[0]), 'rev1 Ready');
    });

    const history = async () =>
      (
        JSON.parse(await gitfleet('history', 'assignment', 'roll', '--tenant', TENANT, '-o', 'json')) as {
          revisions: Array<{ revision: string; clusters: number; current: boolean }>;
        }
      ).revisions;

    it('applies rev2, rolls back to rev1 (pinned), stays there when rev3 is committed, and follows the repo after --unpin', async () => {
      await repo.commit({ 'app/cm.yaml': configMapYaml('release', { version: '2' }) }, 'rev2');
      revs.push(await resolve('roll'));
      await streamed('roll', readyAt(revs[1]), 'rev2 Ready');
      expect(await release()).toBe('2');
      // the hub records what the agent reported as applied
      await eventually(async () => ((await history()).length === 2 ? true : undefined), {
        timeoutMs: 30_000,
      });
      expect((await history()).map((r) => [r.revision, r.clusters, r.current])).toEqual([
        [revs[1], 1, true],
        [revs[0], 1, false],
      ]);

      // default: the revision before the current one
      const before = seen.length;
      expect(await gitfleet('rollback', 'assignment', 'roll', '--tenant', TENANT)).toBe(
        `assignment "team-a/roll" pinned to ${shortRevision(revs[0])} by rollback; its clusters get that revision until --unpin\n`,
      );
      await streamed('roll', readyAt(revs[0]), 'rev1 Ready again', before);
      expect(await release()).toBe('1');
      const pinned = await printedStatus('roll');
      expect(pinned).toMatchObject({
        state: 'Ready',
        desiredRevision: revs[0],
        appliedRevision: revs[0],
        pinned: true,
      });
      expect(pinned.message).toBe(
        `applied revision ${shortRevision(revs[0])}: 0 created, 1 configured, 0 unchanged, 0 deleted`,
      );
      const table = await gitfleet('status', '--tenant', TENANT, '--assignment', 'roll');
      expect(table).toContain(`${shortRevision(revs[0])} (pinned)`);
      expect(await gitfleet('assignment', 'get', 'roll', '--tenant', TENANT)).toContain(
        `pinned to ${shortRevision(revs[0])} by rollback`,
      );

      // a new commit does not move it: a pass started after rev3 resolved still applies rev1
      await repo.commit({ 'app/cm.yaml': configMapYaml('release', { version: '3' }) }, 'rev3');
      revs.push(await resolve('roll'));
      const outcome = await gitfleet('reconcile', 'assignment', 'roll', '--tenant', TENANT);
      expect(outcome).toMatch(
        new RegExp(`^${CLUSTER}\\s+Ready\\s+${escape(shortRevision(revs[0]))}\\s+applied revision`, 'm'),
      );
      expect(await release()).toBe('1');
      expect(await printedStatus('roll')).toMatchObject({ desiredRevision: revs[0], pinned: true });
      expect((await history()).filter((r) => r.current).map((r) => r.revision)).toEqual([revs[0]]);

      const unpinned = seen.length;
      expect(await gitfleet('rollback', 'assignment', 'roll', '--tenant', TENANT, '--unpin')).toBe(
        'assignment "team-a/roll" unpinned: it follows its repo again\n',
      );
      await streamed('roll', readyAt(revs[2]), 'rev3 Ready after --unpin', unpinned);
      expect(await release()).toBe('3');
      expect(await printedStatus('roll')).toMatchObject({
        state: 'Ready',
        desiredRevision: revs[2],
        appliedRevision: revs[2],
        pinned: false,
      });
      await eventually(async () => ((await history()).length === 3 ? true : undefined), {
        timeoutMs: 30_000,
      });
      expect((await history()).map((r) => [r.revision, r.current])).toEqual([
        [revs[2], true],
        [revs[1], false],
        [revs[0], false],
      ]);
      const listed = await gitfleet('history', 'assignment', 'roll', '--tenant', TENANT);
      expect(listed.split('\n')[0]).toMatch(/^REVISION\s+FIRST APPLIED\s+LAST APPLIED\s+CLUSTERS\s+CURRENT$/);
      expect(listed).toContain(revs[0]);
    });
  });
});

/** A string as a literal in a RegExp. */
function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
