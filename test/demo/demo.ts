// `npm run demo`: gitfleet end to end on embedded defaults. Sets up an authenticated bus
// (`gitfleet bus init`) and starts a local nats-server with it, the local Kubernetes control
// plane of the test environment and a local git server with sample manifests; runs a hub
// (SQLite) and one agent (joined with a one-time token) as real `gitfleet` processes; drives them
// through the CLI; shows the objects reconciled and the bus refusing a client without
// credentials, pushes a second commit and shows it roll out.
// `--keep-running` leaves everything up and prints how to reach it.
import { spawn, execFile as execFileCb, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, AppsV1Api } from '@kubernetes/client-node';
import { connect } from '@nats-io/transport-node';
import {
  eventually,
  freePort,
  renderTool,
  startGit,
  startKube,
  startNats,
  type KubeEnv,
  type NatsEnv,
  type GitEnv,
} from '../env/index.js';
import { configMapYaml, deploymentYaml, serviceYaml } from '../fixtures/manifests.js';

const execFile = promisify(execFileCb);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const keepRunning = process.argv.includes('--keep-running');
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

let stepNo = 0;
function step(title: string): void {
  stepNo++;
  process.stdout.write(`\n${bold(`[${stepNo}] ${title}`)}\n`);
}

function sampleFiles(replicas: number, extra: boolean): Record<string, string> {
  const files: Record<string, string> = {
    'apps/web/deployment.yaml': deploymentYaml('web', { replicas }),
    'apps/web/service.yaml': serviceYaml('web', { headless: false }),
    'apps/config.yaml': configMapYaml('web-config', { greeting: 'hello from gitfleet' }),
    'README.md': 'sample manifests for the gitfleet demo\n',
  };
  if (extra) files['apps/feature.yaml'] = configMapYaml('feature-flags', { newCheckout: 'true' });
  // a Kustomize base with a dev overlay, laid out as public example repositories are
  files['kustomize/base/kustomization.yaml'] = 'resources:\n  - settings.yaml\n';
  files['kustomize/base/settings.yaml'] = configMapYaml('site-settings', { level: 'info', color: 'blue' });
  files['kustomize/overlays/dev/kustomization.yaml'] = [
    'resources:',
    '  - ../../base',
    'namePrefix: dev-',
    'patches:',
    '  - patch: |-',
    '      apiVersion: v1',
    '      kind: ConfigMap',
    '      metadata:',
    '        name: site-settings',
    '      data:',
    '        level: debug',
    '',
  ].join('\n');
  // a Helm chart with its values file
  files['charts/hello/Chart.yaml'] = 'apiVersion: v2\nname: hello\nversion: 0.1.0\n';
  files['charts/hello/values.yaml'] = 'greeting: hello\nreplicas: 1\n';
  files['charts/hello/templates/configmap.yaml'] = [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: {{ .Release.Name }}-greeting',
    'data:',
    '  greeting: {{ .Values.greeting | quote }}',
    '  cluster: "${cluster_name}"',
    '',
  ].join('\n');
  return files;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'gitfleet-demo-'));
  const children: ChildProcess[] = [];
  let nats: NatsEnv | undefined;
  let kube: KubeEnv | undefined;
  let git: GitEnv | undefined;
  const cleanup = async () => {
    for (const c of children.reverse()) {
      if (c.exitCode === null) {
        c.kill('SIGTERM');
        await new Promise((r) => c.once('exit', r));
      }
    }
    await git?.stop();
    await kube?.stop();
    await nats?.destroy();
    rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    void cleanup().then(() => process.exit(130));
  });

  try {
    step("Setting up an authenticated bus: an operator, accounts, the hub's credentials and nats.conf");
    const busDir = join(work, 'bus');
    process.stdout.write(`  $ gitfleet bus init --dir ${busDir}\n`);
    const init = await execFile(process.execPath, [
      cli,
      'bus',
      'init',
      '--dir',
      busDir,
      '--listen',
      '127.0.0.1:4222',
    ]);
    process.stdout.write(init.stdout.trimEnd().replace(/^/gm, '    ') + '\n');

    step(
      'Starting the local environment: nats-server (JetStream, that nats.conf), kube-apiserver + etcd, a git server',
    );
    [nats, kube, git] = await Promise.all([
      startNats({ configFile: join(busDir, 'nats.conf') }),
      startKube(),
      startGit(),
    ]);
    process.stdout.write(
      `  nats       ${nats.url}\n  kubernetes ${kube.server} (kubeconfig ${kube.kubeconfigPath})\n  git        ${git.baseUrl}\n`,
    );

    const repo = await git.createRepo('platform-apps', sampleFiles(2, false));
    process.stdout.write(`  sample repo ${repo.url} at ${(await repo.head()).slice(0, 8)}\n`);

    step('Starting the hub (SQLite store) as a `gitfleet` process, with its bus credentials');
    const hubAddress = `127.0.0.1:${await freePort()}`;
    const db = join(work, 'gitfleet.db');
    const launch = (name: string, args: string[]) => {
      const logPath = join(work, `${name}.log`);
      const fd = openSync(logPath, 'a');
      const child = spawn(process.execPath, [cli, ...args], {
        stdio: ['ignore', fd, fd],
        env: { ...process.env, GITFLEET_LOG_LEVEL: 'info' },
      });
      closeSync(fd);
      children.push(child);
      child.once('exit', (code) => {
        if (code && code !== 0)
          process.stdout.write(
            `  ${name} exited with ${code}; its log:\n${readFileSync(logPath, 'utf8').slice(-3000)}\n`,
          );
      });
      const shownArgs = args.join(' ').replace(/(gf[tj])_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/g, '$1_…');
      process.stdout.write(`  $ gitfleet ${shownArgs}   (log: ${logPath})\n`);
      return child;
    };
    launch('hub', [
      'hub',
      '--listen',
      hubAddress,
      '--nats',
      nats.url,
      '--db',
      db,
      '--nats-creds',
      join(busDir, 'hub.creds'),
    ]);

    // the hub writes its first admin token beside its store at first start (mode 0600)
    const adminTokenFile = join(work, 'gitfleet-admin.token');
    const adminToken = await eventually(
      async () => (existsSync(adminTokenFile) ? readFileSync(adminTokenFile, 'utf8').trim() : undefined),
      { timeoutMs: 60_000, describe: () => `the hub wrote no ${adminTokenFile}` },
    );
    process.stdout.write(`  the hub wrote an admin token to ${adminTokenFile}\n`);
    let token = adminToken;
    const gitfleet = async (...args: string[]): Promise<string> => {
      process.stdout.write(`  $ gitfleet ${args.join(' ')}\n`);
      const { stdout } = await execFile(process.execPath, [cli, '--hub', hubAddress, ...args], {
        env: { ...process.env, GITFLEET_TOKEN: token },
      });
      const shown = stdout.replace(/(gf[tj])_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/g, '$1_…');
      if (shown.trim()) process.stdout.write(shown.trimEnd().replace(/^/gm, '    ') + '\n');
      return stdout;
    };
    const gitfleetQuiet = async (...args: string[]): Promise<string> =>
      (
        await execFile(process.execPath, [cli, '--hub', hubAddress, ...args], {
          env: { ...process.env, GITFLEET_TOKEN: token },
        })
      ).stdout;
    await eventually(
      () =>
        execFile(process.execPath, [cli, '--hub', hubAddress, '--token', adminToken, 'tenant', 'list']).then(
          () => true,
        ),
      {
        timeoutMs: 60_000,
        describe: () => 'the hub did not answer',
      },
    );

    step('A platform operator (admin token) registers a tenant and a cluster, and gives the tenant a token');
    await gitfleet('tenant', 'create', 'team-a', '--namespace', 'team-a', '--namespace', 'team-a-jobs');
    await gitfleet('cluster', 'create', 'demo-1', '--label', 'env=dev', '--label', 'region=local');
    const created = await gitfleet(
      'token',
      'create',
      '--role',
      'tenant',
      '--tenant',
      'team-a',
      '--ttl',
      '24h',
    );
    const tenantToken = created.trimEnd().split('\n').at(-1)!;

    step("The cluster's agent joins the bus with a one-time token and gets a NATS user of its own");
    const joinToken = (await gitfleet('cluster', 'token', 'create', 'demo-1', '--ttl', '1h'))
      .trimEnd()
      .split('\n')
      .at(-1)!;
    launch('agent', [
      'agent',
      '--cluster',
      'demo-1',
      '--join',
      joinToken,
      '--hub',
      hubAddress,
      '--kubeconfig',
      kube.kubeconfigPath,
      '--resync',
      '30s',
      // the pinned tools of the Kustomize and Helm renderers (test/env/setup.sh installs them)
      '--kubectl',
      renderTool('kubectl'),
      '--helm',
      renderTool('helm'),
    ]);
    await eventually(
      async () => JSON.parse(await gitfleetQuiet('-o', 'json', 'cluster', 'get', 'demo-1')).joinedAtMs > 0,
      {
        timeoutMs: 60_000,
        describe: () => 'the agent did not join',
      },
    );
    await gitfleet('cluster', 'get', 'demo-1');
    // the bus refuses anyone without credentials: no reading desired sets, no forged status
    const anonymous = await connect({ servers: nats.url, maxReconnectAttempts: 0, timeout: 3000 }).then(
      async (nc) => {
        await nc.close();
        return 'connected';
      },
      (err: Error) => err.message,
    );
    if (!/Authorization Violation/i.test(anonymous))
      throw new Error(`an anonymous NATS client got in: ${anonymous}`);
    process.stdout.write(`  a NATS client without credentials: ${anonymous}\n`);

    step(
      "The tenant (its own token: team-a's repos, assignments and status only) registers its repo and assigns it",
    );
    token = tenantToken;
    await gitfleet(
      'repo',
      'create',
      'platform-apps',
      '--tenant',
      'team-a',
      '--url',
      repo.url,
      '--branch',
      'main',
      '--interval',
      '1m',
    );
    await gitfleet(
      'assignment',
      'create',
      'web',
      '--tenant',
      'team-a',
      '--repo',
      'platform-apps',
      '--path',
      'apps',
      '--selector',
      'env=dev',
    );
    // a Kustomize overlay (auto: the path holds a kustomization.yaml) and a Helm chart with an
    // inline value and the cluster's name substituted after rendering
    await gitfleet(
      'assignment',
      'create',
      'site',
      '--tenant',
      'team-a',
      '--repo',
      'platform-apps',
      '--path',
      'kustomize/overlays/dev',
      '--selector',
      'env=dev',
    );
    await gitfleet(
      'assignment',
      'create',
      'hello',
      '--tenant',
      'team-a',
      '--repo',
      'platform-apps',
      '--path',
      'charts/hello',
      '--renderer',
      'helm',
      '--set',
      'greeting=hello from helm',
      '--substitute',
      '--selector',
      'env=dev',
    );
    // the tenant's token reaches nothing else
    const refused = await execFile(process.execPath, [
      cli,
      '--hub',
      hubAddress,
      '--token',
      tenantToken,
      'cluster',
      'list',
    ]).then(
      () => undefined,
      (err: { stderr: string }) => err.stderr.trim(),
    );
    if (!refused?.includes('PERMISSION_DENIED'))
      throw new Error(`a tenant token listed clusters: ${refused}`);
    process.stdout.write(`  $ gitfleet cluster list   (as team-a)\n    ${refused}\n`);

    const waitFor = async (revision: string) => {
      await eventually(
        async () => {
          const { stdout } = await execFile(process.execPath, [
            cli,
            '--hub',
            hubAddress,
            '--token',
            tenantToken,
            '-o',
            'json',
            'status',
            '--tenant',
            'team-a',
          ]);
          const statuses = (JSON.parse(stdout) as { statuses: { state: string; appliedRevision: string }[] })
            .statuses;
          return (
            statuses.length > 0 &&
            statuses.every((s) => s.state === 'Ready' && s.appliedRevision.endsWith(revision))
          );
        },
        { timeoutMs: 120_000, intervalMs: 250, describe: () => `revision ${revision} did not become Ready` },
      );
    };

    step(
      "The agent renders them (plain YAML, a Kustomize overlay, a Helm chart) and reconciles them, impersonating team-a's ServiceAccount",
    );
    const first = await repo.head();
    await waitFor(first);
    await gitfleet('status');
    const showObjects = async () => {
      const kc = kube!.kubeConfig();
      const deploy = await kc
        .makeApiClient(AppsV1Api)
        .readNamespacedDeployment({ name: 'web', namespace: 'team-a' });
      const cms = await kc.makeApiClient(CoreV1Api).listNamespacedConfigMap({
        namespace: 'team-a',
        labelSelector: 'app.kubernetes.io/managed-by=gitfleet',
      });
      const managers = [...new Set(deploy.metadata?.managedFields?.map((f) => f.manager))].join(', ');
      process.stdout.write(`  in cluster demo-1, namespace team-a:\n`);
      process.stdout.write(
        `    Deployment web   replicas=${deploy.spec?.replicas}  field managers: ${managers}\n`,
      );
      for (const cm of cms.items) {
        const data = Object.entries(cm.data ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(' ');
        process.stdout.write(`    ConfigMap ${cm.metadata?.name}   ${data}\n`);
      }
    };
    await showObjects();

    step(
      'The tenant pushes a second commit (3 replicas, a new ConfigMap) and asks the hub to resolve it now',
    );
    const second = await repo.commit(sampleFiles(3, true), 'scale web to 3, add feature flags');
    process.stdout.write(`  pushed ${second.slice(0, 8)}\n`);
    await gitfleet('repo', 'resolve', 'platform-apps', '--tenant', 'team-a');
    await waitFor(second);
    await gitfleet('status');
    await showObjects();

    if (keepRunning) {
      step('Everything keeps running (Ctrl-C stops it). Try:');
      process.stdout.write(
        `  export GITFLEET_HUB=${hubAddress}\n  export GITFLEET_TOKEN=$(cat ${adminTokenFile})\n  export KUBECONFIG=${kube.kubeconfigPath}\n  node ${cli} status\n  kubectl get deploy,svc,cm -n team-a\n  git clone ${repo.url}\n`,
      );
      await new Promise(() => undefined);
    }
    step('Done: both revisions rolled out. Stopping everything.');
  } catch (err) {
    for (const name of ['hub', 'agent']) {
      try {
        const log = readFileSync(join(work, `${name}.log`), 'utf8')
          .trimEnd()
          .split('\n')
          .slice(-25)
          .join('\n');
        process.stderr.write(`--- last lines of the ${name} log ---\n${log}\n`);
      } catch {
        /* not started */
      }
    }
    throw err;
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
