// commit: a commit pushed to the test git server, announced to the hub with ResolveRepo (what the
// git host's webhook triggers), until the hub's WatchStatus shows the agent applied it. Peer: a
// push pipeline's job — `git clone --depth 1` and `kubectl apply --server-side` of the change —
// timed the same way, from the moment the push returned.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import type { AssignmentStatus } from '../../../proto/index.js';
import { BENCH_TENANT_ROLE } from '../lib/audit.js';
import { withFleet, kubectl, READY } from '../lib/fleet.js';
import { configMapYaml, deploymentYaml, serviceYaml } from '../../fixtures/manifests.js';
import { fmtMs, ratio, type ResultRow } from '../lib/report.js';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../lib/scenario.js';
import { distribution, rounded } from '../lib/stats.js';
import { waitUntil } from '../lib/wait.js';

const execFileAsync = promisify(execFile);

const CLUSTER = 'commit-1';
const TENANT = 'bench';
const NAMESPACE = 'bench-commit';
const PEER_NAMESPACE = 'bench-pipeline';
const GOAL_P50_MS = 1000;

/** The app: a Deployment, a Service and 8 ConfigMaps; commit `i` changes a setting and the pod template. */
function appFiles(i: number): Record<string, string> {
  const configs = Array.from({ length: 8 }, (_, k) =>
    configMapYaml(`app-config-${k + 1}`, { item: String(k + 1), ...(k === 0 ? { commit: String(i) } : {}) }),
  );
  return {
    'app/deployment.yaml': deploymentYaml('app', {
      podAnnotations: { 'bench.gitfleet.dev/revision': String(i) },
    }),
    'app/service.yaml': serviceYaml('app'),
    'app/config.yaml': configs.join('---\n'),
  };
}

export const commit: Scenario = {
  name: 'commit',
  title: 'Commit to applied: push → ResolveRepo → the hub shows it applied (vs. a push pipeline)',
  sizes: '20 commits (quick: 5)',
  async run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
    const commits = ctx.size ?? (ctx.quick ? 5 : 20);
    const progress = ctx.progress;
    return withFleet(progress, async (fleet, cleanup) => {
      const api = fleet.hub.client;
      const repo = await fleet.git.createRepo('app', appFiles(0));
      const kubectlCache = join(fleet.dir, 'kubectl-cache');
      await api.tenants.createTenant({
        tenant: { name: TENANT, namespaces: [NAMESPACE], clusterRole: BENCH_TENANT_ROLE },
      });
      // an hour: only ResolveRepo announces commits here
      await api.repos.createRepo({
        repo: { tenant: TENANT, name: 'app', url: repo.url, branch: 'main', intervalSeconds: 3600 },
      });
      await api.clusters.createCluster({ cluster: { name: CLUSTER, labels: { bench: 'commit' } } });
      const tap = fleet.tap(CLUSTER);
      await fleet.startAgent(CLUSTER, { resync: '10m' });

      // WatchStatus: the first time the hub shows each revision Ready
      const readyAt = new Map<string, number>();
      const stream = api.status.watchStatus({ tenant: TENANT });
      cleanup.add('WatchStatus stream', () => stream.cancel());
      stream.on('data', (s: AssignmentStatus) => {
        if (s.state === READY && s.appliedRevision && !readyAt.has(s.appliedRevision))
          readyAt.set(s.appliedRevision, Date.now());
      });
      stream.on('error', () => undefined); // cancelled at the end

      await api.assignments.createAssignment({
        assignment: {
          tenant: TENANT,
          name: 'app',
          repo: 'app',
          path: 'app',
          clusters: [CLUSTER],
          prune: true,
        },
      });
      const first = `main@sha1:${await repo.head()}`;
      await waitUntil('initial revision applied', () => readyAt.has(first), {
        timeoutMs: 120_000,
        progress,
        describe: () => 'waiting',
      });
      await kubectl(fleet.kube, ['create', 'namespace', PEER_NAMESPACE], kubectlCache);
      progress.say(`initial revision applied; ${commits} commits follow`);

      const gitfleetMs: number[] = [];
      const busMs: number[] = [];
      const resolveMs: number[] = [];
      const peerMs: number[] = [];
      const cloneMs: number[] = [];
      for (let i = 1; i <= commits; i++) {
        const sha = await repo.commit(appFiles(i), `change ${i}`);
        const revision = `main@sha1:${sha}`;
        const t0 = Date.now();
        const p0 = performance.now();
        await api.repos.resolveRepo({ tenant: TENANT, name: 'app' });
        resolveMs.push(performance.now() - p0);
        await waitUntil(`commit ${i} applied`, () => readyAt.has(revision), {
          timeoutMs: 120_000,
          intervalMs: 10,
          describe: () => tap.statuses.get(`${TENANT}/app`)?.value.message ?? '',
        });
        gitfleetMs.push(readyAt.get(revision)! - t0);
        const onBus = tap.ready(revision)[0];
        if (onBus) busMs.push(onBus.at - t0);

        // the pipeline, for the same commit
        const clone = join(fleet.dir, `clone-${i}`);
        const c0 = performance.now();
        await execFileAsync(
          'git',
          ['clone', '--quiet', '--depth', '1', '--branch', 'main', repo.url, clone],
          {
            env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
          },
        );
        cloneMs.push(performance.now() - c0);
        await kubectl(
          fleet.kube,
          ['apply', '--server-side', '-f', join(clone, 'app'), '--recursive', '-n', PEER_NAMESPACE],
          kubectlCache,
        );
        peerMs.push(performance.now() - c0);
        progress.say(
          `commit ${i}/${commits}: gitfleet ${fmtMs(gitfleetMs.at(-1))} (agent status on the bus ${fmtMs(busMs.at(-1))}), pipeline ${fmtMs(peerMs.at(-1))}`,
        );
      }

      const g = distribution(gitfleetMs);
      const p = distribution(peerMs);
      const b = distribution(busMs);
      const size = `${commits} commits`;
      const rows: ResultRow[] = [
        {
          size,
          metric: 'commit → applied, p50 (hub WatchStatus)',
          gitfleet: fmtMs(g.p50),
          peerName: 'git clone --depth 1 + kubectl apply --server-side',
          peer: fmtMs(p.p50),
          ratio: ratio(g.p50, p.p50),
          goal: `p50 ≤ ${fmtMs(GOAL_P50_MS)}`,
          met: g.p50 <= GOAL_P50_MS,
        },
        {
          size,
          metric: 'commit → applied, p99',
          gitfleet: fmtMs(g.p99),
          peerName: 'pipeline',
          peer: fmtMs(p.p99),
          ratio: ratio(g.p99, p.p99),
          goal: '',
        },
        {
          size,
          metric: 'commit → agent Ready on the bus, p50',
          gitfleet: fmtMs(b.p50),
          peerName: '-',
          peer: '',
          goal: '',
        },
        {
          size,
          metric: 'ResolveRepo call, p50',
          gitfleet: fmtMs(distribution(resolveMs).p50),
          peerName: 'git clone --depth 1, p50',
          peer: fmtMs(distribution(cloneMs).p50),
          goal: '',
        },
      ];
      return {
        rows,
        notes: [
          "Each commit changes a ConfigMap and the Deployment's pod template (2 of 10 objects). Both sides are timed from the moment `git push` returned; gitfleet until the hub's WatchStatus stream shows the revision Ready (agent → status stream → hub store → API), the pipeline until kubectl exits (fresh discovery cache, as a CI job).",
        ],
        details: {
          commits,
          gitfleet: rounded(g),
          agentReadyOnBus: rounded(b),
          resolveRepoCall: rounded(distribution(resolveMs)),
          pipeline: rounded(p),
          pipelineClone: rounded(distribution(cloneMs)),
          samples: { gitfleetMs, peerMs },
        },
      };
    });
  },
};
