// What the agent suites (agent-*.test.ts) share: a real kube-apiserver, nats-server and git server,
// a repo "apps" of two ConfigMaps and a Deployment, the test playing the hub (HubDouble) and the
// agent under test in this process, plus the desired sets and checks the tests are written in.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import {
  AssignmentState,
  formatGitRevision,
  type AssignmentStatus,
  type DeepPartial,
  type DesiredAssignment,
  type DesiredSet,
} from '../../../proto/index.js';
import { startAgent, type AgentConfig, type RunningAgent } from '../../../agent/main.js';
import {
  startServers,
  type GitEnv,
  type GitRepo,
  type KubeEnv,
  type NatsEnv,
  type Servers,
} from '../../env/index.js';
import { HubDouble } from './hub-double.js';

export const CLUSTER = 'edge-1';
const GIT_USER = 'fleet-bot';
export const GIT_PASSWORD = 'pa55-word-for-tests';
const RESYNC_SECONDS = 2;

export const cm = (name: string, value: string, namespace?: string) =>
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

export const tenants = [
  {
    name: 'team-a',
    namespaces: ['team-a', 'team-a-extra'],
    serviceAccount: 'gitfleet-reconciler',
    clusterRole: 'admin',
  },
  { name: 'team-b', namespaces: ['team-b'], serviceAccount: 'gitfleet-reconciler', clusterRole: 'admin' },
];

/**
 * Resources only gitfleet writes in these tests (ServiceAccounts and Secrets are left out: the
 * controller-manager's token controller writes those on its own schedule).
 */
export const WATCHED_RESOURCES = ['configmaps', 'deployments', 'namespaces', 'rolebindings'];

function isNotFound(err: unknown): boolean {
  const e = err as { code?: number };
  return e.code === 404;
}

export class AgentHarness {
  /** The agent under test, when running. */
  agent: RunningAgent | undefined;
  /** Every status the agent made, as its events report them (also while NATS is down). */
  readonly localStatuses: AssignmentStatus[] = [];
  readonly kube: KubeEnv;
  readonly nats: NatsEnv;
  readonly git: GitEnv;
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;

  private constructor(
    private readonly servers: Servers,
    readonly repo: GitRepo,
    readonly hub: HubDouble,
    private readonly cacheDir: string,
  ) {
    ({ kube: this.kube, nats: this.nats, git: this.git } = servers);
    this.kc = this.kube.kubeConfig();
    this.core = this.kc.makeApiClient(CoreV1Api);
    this.apps = this.kc.makeApiClient(AppsV1Api);
  }

  /** Starts the servers, the repo and the hub's connection (not its bus, not the agent). */
  static async start(): Promise<AgentHarness> {
    const servers = await startServers({ git: { username: GIT_USER, password: GIT_PASSWORD } });
    const cacheDir = mkdtempSync(join(tmpdir(), 'gitfleet-agent-test-'));
    const hub = new HubDouble(servers.nats.url, CLUSTER);
    try {
      const repo = await servers.git.createRepo('apps', {
        'apps/config.yaml': `${cm('settings', 'one')}---\n${cm('flags', 'on')}`,
        'apps/deploy.yaml': deployment,
        'README.md': '# not a manifest\n',
      });
      await hub.connect();
      return new AgentHarness(servers, repo, hub, cacheDir);
    } catch (err) {
      await hub.close();
      await servers.stop();
      rmSync(cacheDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Stops the agent, the hub's connection and the servers; never throws. */
  async stop(): Promise<void> {
    await this.agent?.stop().catch(() => undefined);
    this.agent = undefined;
    await this.hub.close();
    await this.servers.stop();
    rmSync(this.cacheDir, { recursive: true, force: true });
  }

  /** Starts the agent (it becomes `agent`), with `extra` configuration (e.g. limits). */
  async startAgent(extra: Partial<AgentConfig> = {}): Promise<RunningAgent> {
    const a = await startAgent({
      cluster: CLUSTER,
      natsUrl: this.nats.url,
      kubeconfigPath: this.kube.kubeconfigPath,
      cacheDir: this.cacheDir,
      resyncSeconds: RESYNC_SECONDS,
      heartbeatSeconds: 1,
      // tests measure and wait for passes: no random delay before fetches (agent-windows proves it)
      fetchJitterMs: 0,
      logLevel: process.env.GITFLEET_LOG_LEVEL ?? 'warn',
      ...extra,
    });
    a.events.on('status', (s) => this.localStatuses.push(s));
    this.agent = a;
    return a;
  }

  /** Where most suites start: the hub's bus, the agent, and the repo's head applied as team-a/web. */
  async startWithHeadApplied(extra: Partial<AgentConfig> = {}): Promise<void> {
    await this.hub.createBus();
    await this.startAgent(extra);
    const commit = await this.repo.head();
    await this.hub.publish(this.desired(this.web(commit)));
    await this.ready(commit, 0);
  }

  /** The assignment team-a/web of the repo's apps/ at `commit`. */
  web(commit: string, extra: Partial<DesiredAssignment> = {}): DeepPartial<DesiredAssignment> {
    return {
      tenant: 'team-a',
      name: 'web',
      repo: 'apps',
      source: {
        type: 'git',
        url: this.repo.url,
        commit,
        revision: formatGitRevision('main', commit),
        credentials: { username: GIT_USER, password: GIT_PASSWORD },
      },
      path: 'apps',
      targetNamespace: 'team-a',
      prune: true,
      renderer: 'plain',
      ...extra,
    };
  }

  desired(...assignments: DeepPartial<DesiredAssignment>[]): DeepPartial<DesiredSet> {
    return { tenants, assignments };
  }

  /** The first Ready status of team-a/web at `commit` after `after` statuses. */
  ready(commit: string, after: number): Promise<AssignmentStatus> {
    return this.hub.waitForStatus(
      (s) =>
        s.assignment === 'web' &&
        s.state === AssignmentState.ASSIGNMENT_STATE_READY &&
        s.desiredRevision === formatGitRevision('main', commit),
      { after },
    );
  }

  /** The ConfigMap, or undefined when there is none. */
  async configMap(namespace: string, name: string) {
    try {
      return await this.core.readNamespacedConfigMap({ namespace, name });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
