// A whole fleet for end-to-end suites: nats-server with bus auth, a git server and one
// kube-apiserver, a hub (in this process, restartable on the same store) and one `gitfleet agent`
// process per cluster. The clusters share the API server but nothing else: each agent has its own
// namespace and its own copy of deploy/agent's identity (ServiceAccount, Role, ClusterRole), so
// its inventories, state and credentials are its own; tenants' objects are kept apart by naming
// them per cluster (`${cluster_name}` substituted). The CLI is the built one, as a user runs it.
import { spawn, execFile as execFileCb, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { CoreV1Api } from '@kubernetes/client-node';
import { initBus, startHub, type BusInitResult, type HubConfig, type RunningHub } from '../../hub/main.js';
import { createHubClient, type HubClient } from '../../cli/client/hub-client.js';
import { testAdminToken } from '../integration/hub/harness.js';
import { eventually, startServers, type KubeEnv, type Servers } from '../env/index.js';

const execFile = promisify(execFileCb);
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cli = join(root, 'dist', 'cli', 'main.js');

export interface FleetOptions {
  /** Test name, for temp dirs. */
  name: string;
  /** Hub settings beyond the ones the fleet sets (listen, nats, db, token, creds). */
  hub?: Partial<HubConfig>;
}

export interface Fleet {
  servers: Servers;
  kube: KubeEnv;
  core: CoreV1Api;
  work: string;
  adminToken: string;
  hub(): RunningHub;
  client(): HubClient;
  /** Runs the built CLI as the admin against the current hub; resolves with its stdout. */
  gitfleet(...args: string[]): Promise<string>;
  /** The same, with extra environment (e.g. GITFLEET_TOKEN of a tenant). */
  gitfleetWith(env: Record<string, string>, ...args: string[]): Promise<string>;
  /** Registers the cluster and starts its agent with its own namespace and identity. */
  addCluster(name: string, labels: Record<string, string>, agentArgs?: string[]): Promise<void>;
  /** Stops a cluster's agent (SIGTERM, or SIGKILL when `kill`). */
  stopAgent(name: string, opts?: { kill?: boolean }): Promise<void>;
  /** Starts a stopped agent again (it reuses the credentials of its join). */
  startAgent(name: string): void;
  /** The last lines of a cluster's agent log, for failure messages. */
  agentLog(name: string, lines?: number): string;
  /** Closes the hub and starts it again on the same store and bus (a new address). */
  restartHub(): Promise<void>;
  stop(): Promise<void>;
}

/** deploy/agent's identity objects (no Deployment, no ConfigMap), as JSON text. */
async function agentIdentity(): Promise<string> {
  const rendered = (await execFile('kubectl', ['kustomize', join(root, 'deploy', 'agent')])).stdout;
  return JSON.stringify(
    parseAllDocuments(rendered)
      .map((d) => d.toJS() as { kind: string })
      .filter((o) => !['Deployment', 'ConfigMap'].includes(o.kind)),
  );
}

export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first (npm test does)`);
  const work = mkdtempSync(join(tmpdir(), `gitfleet-e2e-${opts.name}-`));
  const adminToken = testAdminToken();
  let servers: Servers | undefined;
  let hub: RunningHub | undefined;
  let client: HubClient | undefined;
  const agents = new Map<string, { proc?: ChildProcess; args: string[]; log: string }>();
  let bus: BusInitResult;

  const hubConfig = (): HubConfig => ({
    listen: '127.0.0.1:0',
    natsUrl: servers!.nats.url,
    db: join(work, 'hub.db'),
    logLevel: 'warn',
    adminToken,
    natsCredsFile: bus.hubCreds,
    ...opts.hub,
  });

  const stopAgent = async (name: string, o: { kill?: boolean } = {}): Promise<void> => {
    const a = agents.get(name)?.proc;
    if (!a || a.exitCode !== null || a.signalCode !== null) return;
    const exited = new Promise((r) => a.once('exit', r));
    a.kill(o.kill ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };

  const stop = async (): Promise<void> => {
    await Promise.allSettled([...agents.keys()].map((n) => stopAgent(n, { kill: true })));
    client?.close();
    await hub?.close().catch(() => undefined);
    await servers?.stop();
    rmSync(work, { recursive: true, force: true });
  };

  try {
    bus = await initBus({ dir: join(work, 'bus') });
    servers = await startServers({ nats: { configFile: bus.natsConf } });
    hub = await startHub(hubConfig());
    client = createHubClient(hub.address, { token: adminToken });
  } catch (err) {
    await stop();
    throw err;
  }
  const kube = servers.kube;
  const core = kube.kubeConfig().makeApiClient(CoreV1Api);
  const identity = await agentIdentity();

  const gitfleetWith = async (env: Record<string, string>, ...args: string[]): Promise<string> => {
    try {
      const { stdout } = await execFile(process.execPath, [cli, ...args], {
        env: { ...process.env, GITFLEET_HUB: hub!.address, GITFLEET_TOKEN: adminToken, ...env },
        timeout: 120_000,
      });
      return stdout;
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`gitfleet ${args.join(' ')} failed: ${e.stderr || e.message}`);
    }
  };

  const kubectlApply = async (json: string): Promise<void> => {
    const run = execFile('kubectl', [
      '--kubeconfig',
      kube.kubeconfigPath,
      'apply',
      '--server-side',
      '-f',
      '-',
    ]);
    run.child.stdin?.end(json);
    await run;
  };

  const startAgent = (name: string): void => {
    const a = agents.get(name)!;
    const fd = openSync(a.log, 'a');
    a.proc = spawn(process.execPath, [cli, 'agent', ...a.args], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, GITFLEET_LOG_LEVEL: 'debug' },
    });
    closeSync(fd);
  };

  return {
    servers,
    kube,
    core,
    work,
    adminToken,
    hub: () => hub!,
    client: () => client!,
    gitfleet: (...args) => gitfleetWith({}, ...args),
    gitfleetWith,
    async addCluster(name, labels, agentArgs = []) {
      // deploy/agent's identity, renamed for this cluster: its own namespace, ServiceAccount and
      // (cluster-scoped) roles, as if it were the only agent of its own cluster
      const ns = `gf-${name}`;
      const mine = identity
        .replaceAll('"gitfleet-system"', JSON.stringify(ns))
        .replaceAll('"gitfleet-agent"', JSON.stringify(`gitfleet-agent-${name}`));
      await kubectlApply((JSON.parse(mine) as object[]).map((o) => JSON.stringify(o)).join('\n'));
      const token = await eventually(async () => {
        const secrets = await core.listNamespacedSecret({
          namespace: ns,
          fieldSelector: 'type=kubernetes.io/service-account-token',
        });
        const s = secrets.items.find(
          (x) => x.metadata?.annotations?.['kubernetes.io/service-account.name'] === `gitfleet-agent-${name}`,
        );
        return s?.data?.token ? Buffer.from(s.data.token, 'base64').toString('utf8') : undefined;
      });
      const kubeconfig = kube.writeKubeconfig(`agent-${name}`, token);
      await gitfleetWith(
        {},
        'cluster',
        'create',
        name,
        ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      );
      const joinToken = (await client!.clusters.createJoinToken({ cluster: name })).token;
      agents.set(name, {
        log: join(work, `agent-${name}.log`),
        args: [
          '--cluster',
          name,
          '--join',
          joinToken,
          '--hub',
          hub!.address,
          '--kubeconfig',
          kubeconfig,
          '--namespace',
          ns,
          '--cache-dir',
          join(work, `cache-${name}`),
          // no fetch jitter unless a test asks for it: waits here are for conditions, not herds
          '--fetch-jitter',
          '0',
          ...agentArgs,
        ],
      });
      startAgent(name);
    },
    stopAgent,
    startAgent,
    agentLog(name, lines = 40) {
      const log = agents.get(name)?.log;
      return log && existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-lines).join('\n') : '';
    },
    async restartHub() {
      client?.close();
      await hub?.close();
      hub = await startHub(hubConfig());
      client = createHubClient(hub.address, { token: adminToken });
    },
    stop,
  };
}
