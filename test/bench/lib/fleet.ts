// The environment of the end-to-end scenarios: nats-server, the audited control plane, a git
// server, a `gitfleet hub` process, `gitfleet agent` processes, and a tap on the bus that sees
// each cluster's desired sets and status reports the moment they cross it. Also kubectl, the peer.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  AssignmentState,
  DesiredSet,
  StatusReport,
  desiredSubject,
  type AssignmentStatus,
} from '../../../proto/index.js';
import { startGit, startNats, type GitEnv, type KubeEnv, type NatsEnv } from '../../env/index.js';
import { BENCH_TENANT_ROLE, startBenchKube, type AuditLog } from './audit.js';
import { findPid, startAgentProcess, startHubProcess, type AgentProcess, type HubProcess } from './proc.js';
import type { Progress } from './progress.js';
import { tempDir, withCleanup, type Cleanup } from './scenario.js';
import { waitUntil } from './wait.js';

const execFileAsync = promisify(execFile);

export interface Seen<T> {
  value: T;
  /** Date.now() when the bench saw it on the bus. */
  at: number;
}

/** Everything one cluster's agent and the hub say about it on the bus, as it happens. */
export class ClusterTap {
  /** Latest status per "tenant/assignment". */
  readonly statuses = new Map<string, Seen<AssignmentStatus>>();
  readonly desired: Array<Seen<DesiredSet>> = [];
  heartbeats = 0;
  statusMessages = 0;

  constructor(
    nc: NatsConnection,
    readonly cluster: string,
  ) {
    nc.subscribe(`gitfleet.status.${cluster}.>`, {
      callback: (err, msg) => {
        if (err) return;
        if (msg.subject.endsWith('.heartbeat')) {
          this.heartbeats++;
          return;
        }
        const status = StatusReport.decode(msg.data).status;
        if (!status) return;
        this.statusMessages++;
        this.statuses.set(`${status.tenant}/${status.assignment}`, { value: status, at: Date.now() });
      },
    });
    nc.subscribe(desiredSubject(cluster), {
      callback: (err, msg) => {
        if (err || msg.data.length === 0) return;
        this.desired.push({ value: DesiredSet.decode(msg.data), at: Date.now() });
      },
    });
  }

  /** Statuses that are Ready at `revision` (all when revision is undefined). */
  ready(revision?: string, after = 0): Array<Seen<AssignmentStatus>> {
    return [...this.statuses.values()].filter(
      (s) =>
        s.value.state === AssignmentState.ASSIGNMENT_STATE_READY &&
        (revision === undefined || s.value.appliedRevision === revision) &&
        s.value.startedAtMs >= after,
    );
  }

  /** The first desired set seen on the bus that satisfies `pred`. */
  firstDesired(pred: (set: DesiredSet) => boolean): Seen<DesiredSet> | undefined {
    return this.desired.find((d) => pred(d.value));
  }
}

export interface Fleet {
  dir: string;
  nats: NatsEnv;
  kube: KubeEnv;
  audit: AuditLog;
  git: GitEnv;
  hub: HubProcess;
  /** The bench's own connection (taps, probes). */
  bus: NatsConnection;
  tap(cluster: string): ClusterTap;
  /** Pids of the servers (for CPU accounting): hub, kube-apiserver, etcd, nats-server. */
  serverPids(): Record<string, number | undefined>;
  /** Starts `gitfleet agent` for a cluster and waits for its first heartbeat. */
  startAgent(cluster: string, opts?: { resync?: string }): Promise<AgentProcess>;
}

export interface SeedOptions {
  tenant: string;
  namespaces: string[];
  cluster: string;
  labels: Record<string, string>;
  /** Path → content of the repo "apps". */
  files: Record<string, string>;
  repoIntervalSeconds: number;
}

/**
 * What the one-cluster scenarios start from: a repo "apps" of `files`, one tenant owning it
 * (bound to BENCH_TENANT_ROLE: without kube-controller-manager nothing aggregates `admin`), and one
 * cluster. Returns the repo's pinned revision and a tap on the cluster's bus traffic.
 */
export async function seedOneCluster(
  fleet: Fleet,
  o: SeedOptions,
): Promise<{ revision: string; tap: ClusterTap }> {
  const api = fleet.hub.client;
  const repo = await fleet.git.createRepo('apps', o.files);
  await api.tenants.createTenant({
    tenant: { name: o.tenant, namespaces: o.namespaces, clusterRole: BENCH_TENANT_ROLE },
  });
  const { revision } = await api.repos.createRepo({
    repo: {
      tenant: o.tenant,
      name: 'apps',
      url: repo.url,
      branch: 'main',
      intervalSeconds: o.repoIntervalSeconds,
    },
  });
  await api.clusters.createCluster({ cluster: { name: o.cluster, labels: o.labels } });
  return { revision, tap: fleet.tap(o.cluster) };
}

/** Starts the whole environment; everything is registered with `cleanup`. */
export async function startFleet(cleanup: Cleanup, progress: Progress): Promise<Fleet> {
  const dir = tempDir(cleanup, 'gitfleet-bench-');
  progress.say('starting nats-server, kube-apiserver + etcd (audit log, no controller-manager), git server');
  const [nats, bk, git] = await Promise.all([
    startNats().then((n) => {
      cleanup.add('nats-server', () => n.destroy());
      return n;
    }),
    startBenchKube(dir).then((k) => {
      cleanup.add('kube-apiserver and etcd', () => k.kube.stop());
      return k;
    }),
    startGit().then((g) => {
      cleanup.add('git server', () => g.stop());
      return g;
    }),
  ]);
  const hub = await startHubProcess({ natsUrl: nats.url, dir, tenantClusterRoles: [BENCH_TENANT_ROLE] });
  cleanup.add('hub', () => hub.stop());
  const bus = await connect({ servers: [nats.url], name: 'bench-tap' });
  cleanup.add('bench connection', () => bus.close());
  const taps = new Map<string, ClusterTap>();
  const tap = (cluster: string) => {
    let t = taps.get(cluster);
    if (!t) {
      t = new ClusterTap(bus, cluster);
      taps.set(cluster, t);
    }
    return t;
  };
  return {
    dir,
    nats,
    kube: bk.kube,
    audit: bk.audit,
    git,
    hub,
    bus,
    tap,
    serverPids: () => ({
      hub: hub.proc.pid,
      'kube-apiserver': findPid(join(bk.kube.dir, 'apiserver-certs')),
      etcd: findPid(join(bk.kube.dir, 'etcd')),
      'nats-server': findPid(nats.dir),
    }),
    async startAgent(cluster, opts = {}) {
      const t = tap(cluster);
      await bus.flush();
      const agent = startAgentProcess({
        cluster,
        natsUrl: nats.url,
        kubeconfigPath: bk.kube.kubeconfigPath,
        dir,
        resync: opts.resync,
        tenantClusterRoles: [BENCH_TENANT_ROLE],
      });
      cleanup.add(`agent ${cluster}`, () => agent.stop());
      await waitUntil(`agent ${cluster} connected`, () => t.heartbeats > 0 || !agent.proc.alive(), {
        timeoutMs: 60_000,
      });
      if (!agent.proc.alive()) throw new Error(`gitfleet agent ${cluster} exited:\n${agent.proc.tail()}`);
      return agent;
    },
  };
}

/**
 * The preamble of the scenarios on a whole fleet: starts it, runs `body` on it and stops every
 * server afterwards, also when `body` fails. `cleanup` takes what `body` starts itself.
 */
export function withFleet<T>(
  progress: Progress,
  body: (fleet: Fleet, cleanup: Cleanup) => Promise<T>,
): Promise<T> {
  return withCleanup(progress, async (cleanup) => body(await startFleet(cleanup, progress), cleanup));
}

/** One kubectl run with a fresh discovery cache (as a pipeline job runs it); returns its wall time. */
export async function kubectl(
  kube: KubeEnv,
  args: string[],
  cacheDir: string,
): Promise<{ ms: number; stdout: string; startedAt: number; endedAt: number }> {
  rmSync(cacheDir, { recursive: true, force: true });
  const startedAt = Date.now();
  const t = performance.now();
  const { stdout } = await execFileAsync(
    'kubectl',
    ['--kubeconfig', kube.kubeconfigPath, '--cache-dir', cacheDir, ...args],
    { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, KUBECTL_INTERACTIVE_DELETE: 'false' } },
  );
  return { ms: performance.now() - t, stdout, startedAt, endedAt: Date.now() };
}

export const READY = AssignmentState.ASSIGNMENT_STATE_READY;
