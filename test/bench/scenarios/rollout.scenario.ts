// rollout: one commit rolled across N simulated clusters in three stages (a 1% canary ring, a 9%
// early ring, the rest), each gated on its clusters reporting Ready for the soak time. The hub is
// a real `gitfleet hub` process on a real nats-server and git server; the agents are simulated on
// the bus (rollout/reporting-agents.ts: the agent's own desired-set watcher, a fixed apply time,
// Ready reports on the status stream and heartbeats). Timed from the moment `git push` returned
// to the last cluster reporting Ready, next to the sum of the soak times the stages before the
// last must wait: the difference is what gitfleet adds. Peer in the same run: the same commit on
// an assignment without stages (every cluster at once), which bounds the cost of one wave.
import { performance } from 'node:perf_hooks';
import { startGit, startNats } from '../../env/index.js';
import { startHubProcess, type HubProcess } from '../lib/proc.js';
import { fmtInt, fmtMs, ratio, type ResultRow } from '../lib/report.js';
import {
  tempDir,
  withCleanup,
  type Scenario,
  type ScenarioContext,
  type ScenarioOutcome,
} from '../lib/scenario.js';
import { forEachLimit, waitUntil, waitUntilAsync, Budget } from '../lib/wait.js';
import { connectAgents } from './fanout/common.js';
import { ReportingAgents } from './rollout/reporting-agents.js';
import type { GitRepo } from '../../env/index.js';

const TENANT = 'fleet';
const REGISTER_CONCURRENCY = 32;
/** Overhead per stage the goal allows: one driver pass (1 s) plus the apply and the report. */
const GOAL_OVERHEAD_PER_STAGE_MS = 1500;

function clusterName(i: number): string {
  return `r-${String(i + 1).padStart(5, '0')}`;
}

/** Ring of cluster i: the first 1% canary, the next 9% early, the rest none (the last stage). */
function ring(i: number, n: number): string | undefined {
  if (i < Math.max(1, Math.round(n / 100))) return 'canary';
  if (i < Math.max(2, Math.round(n / 10))) return 'early';
  return undefined;
}

/** The repo's content; its name is in it, so two repos never share a commit (and so a revision). */
function app(repo: string, version: number): Record<string, string> {
  return {
    'app/config.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${repo}\ndata:\n  version: "${version}"\n`,
  };
}

interface Wave {
  /** push returned → ResolveRepo answered. */
  resolvedMs: number;
  /** push returned → GetRollout first showed each stage of the new revision under way (polled every 50 ms). */
  stageSeenMs?: number[];
  /** push returned → the last cluster reported the revision Ready. */
  lastReadyMs: number;
  /** push returned → the rollout reported Finished (staged only: the last stage's soak included). */
  finishedMs?: number;
  /** push returned → the first cluster of each stage reported Ready (staged only). */
  stageFirstReadyMs?: number[];
}

export const rollout: Scenario = {
  name: 'rollout',
  title: 'Staged rollout: commit to the last stage applied on N simulated clusters (vs. the soak times)',
  sizes: 'N = 1,000 clusters, three stages, 5 s soak (quick: 200 clusters, 2 s soak)',
  async run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
    const n = ctx.size ?? (ctx.quick ? 200 : 1000);
    const soakMs = ctx.quick ? 2000 : 5000;
    const progress = ctx.progress;
    const budget = new Budget((ctx.budgetMinutes ?? 15) * 60_000);
    return withCleanup(progress, async (cleanup) => {
      const dir = tempDir(cleanup, 'gitfleet-bench-rollout-');
      const nats = await startNats();
      cleanup.add('nats-server', () => nats.destroy());
      const git = await startGit();
      cleanup.add('git server', () => git.stop());
      const hub: HubProcess = await startHubProcess({ natsUrl: nats.url, dir, logLevel: 'warn' });
      cleanup.add('hub', () => hub.stop());
      const api = hub.client;

      const names = Array.from({ length: n }, (_, i) => clusterName(i));
      const started = Date.now();
      await forEachLimit(
        names,
        REGISTER_CONCURRENCY,
        async (name) => {
          const r = ring(names.indexOf(name), n);
          await api.clusters.createCluster({
            cluster: { name, labels: { fleet: 'bench', ...(r ? { ring: r } : {}) } },
          });
        },
        (done) => progress.count('registering clusters', done, n, started),
        budget,
        'registration',
      );
      const conns = await Promise.all(
        Array.from({ length: 2 }, (_, i) => connectAgents(nats.url, `bench-rollout-agents-${i}`)),
      );
      cleanup.add('agent connections', () => Promise.all(conns.map((c) => c.close())));
      const agents = new ReportingAgents(conns, names, { applyMs: 100 });
      cleanup.add('simulated agents', () => agents.stop());
      agents.start();
      await waitUntil('agents up', () => agents.up === n, {
        timeoutMs: 300_000,
        budget,
        progress,
        describe: () => `${fmtInt(agents.up)}/${fmtInt(n)} agents read their desired set`,
      });

      await api.tenants.createTenant({ tenant: { name: TENANT, namespaces: [TENANT] } });
      const repos: Record<string, GitRepo> = {};
      for (const name of ['staged', 'direct']) {
        repos[name] = await git.createRepo(name, app(name, 1));
        // an hour: only ResolveRepo announces commits here
        await api.repos.createRepo({
          repo: { tenant: TENANT, name, url: repos[name].url, branch: 'main', intervalSeconds: 3600 },
        });
      }
      const stages = ['ring=canary', 'ring=early'];
      await api.assignments.createAssignment({
        assignment: {
          tenant: TENANT,
          name: 'staged',
          repo: 'staged',
          path: 'app',
          selector: { fleet: 'bench' },
          rollout: {
            stages: stages.map((s) => ({
              matchLabels: { ring: s.split('=')[1] },
              matchExpressions: [],
            })),
            maxUnavailable: '100%',
            soakSeconds: soakMs / 1000,
            maxFailures: 0,
          },
        },
      });
      await api.assignments.createAssignment({
        assignment: {
          tenant: TENANT,
          name: 'direct',
          repo: 'direct',
          path: 'app',
          selector: { fleet: 'bench' },
        },
      });

      const revisionOf = async (repo: string) =>
        (await api.repos.getRepo({ tenant: TENANT, name: repo })).revision;
      const first = await revisionOf('staged');
      await waitUntil('first revision everywhere', () => agents.readyCount(first) === n, {
        timeoutMs: 300_000,
        budget,
        progress,
        describe: () => `${fmtInt(agents.readyCount(first))}/${fmtInt(n)} Ready`,
      });
      await waitUntilAsync(
        'first rollout finished',
        async () =>
          (await api.rollouts.getRollout({ tenant: TENANT, assignment: 'staged' })).state === 'Finished',
        { timeoutMs: 120_000, intervalMs: 250, budget, progress },
      );

      /** Commits version 2 to `repo`, announces it, and times the wave until every cluster reported it Ready. */
      const wave = async (repo: 'staged' | 'direct'): Promise<Wave> => {
        await repos[repo].commit(app(repo, 2), 'version 2');
        const t0 = performance.now();
        const revision = (await api.repos.resolveRepo({ tenant: TENANT, name: repo })).revision;
        const result: Wave = { lastReadyMs: NaN, resolvedMs: performance.now() - t0 };
        // when the driver shows each stage of the new revision under way (polled)
        const stageSeen: number[] = [];
        let polling = repo === 'staged';
        const poll = (async () => {
          while (polling) {
            const r = await api.rollouts
              .getRollout({ tenant: TENANT, assignment: 'staged' })
              .catch(() => undefined);
            if (r?.revision === revision && r.stage >= 1 && stageSeen[r.stage - 1] === undefined) {
              for (let k = 0; k < r.stage; k++) stageSeen[k] ??= performance.now() - t0;
            }
            await new Promise((res) => setTimeout(res, 50));
          }
        })();
        await waitUntil(
          `${repo}: every cluster Ready at the new revision`,
          () => agents.readyCount(revision) === n,
          {
            timeoutMs: 600_000,
            budget,
            progress,
            describe: () => `${fmtInt(agents.readyCount(revision))}/${fmtInt(n)} Ready`,
          },
        );
        const times = agents.readyTimes(revision);
        result.lastReadyMs = Math.max(...times) - t0;
        if (repo === 'staged') {
          const firstOf = (from: number, to: number) => Math.min(...times.subarray(from, to)) - t0;
          const canary = Math.max(1, Math.round(n / 100));
          const early = Math.max(2, Math.round(n / 10));
          result.stageFirstReadyMs = [firstOf(0, canary), firstOf(canary, early), firstOf(early, n)];
          await waitUntilAsync(
            'staged rollout finished',
            async () => {
              const r = await api.rollouts.getRollout({ tenant: TENANT, assignment: 'staged' });
              return r.revision === revision && r.state === 'Finished';
            },
            { timeoutMs: 120_000, intervalMs: 100, budget, progress },
          );
          result.finishedMs = performance.now() - t0;
          result.stageSeenMs = stageSeen;
        }
        polling = false;
        await poll;
        return result;
      };

      progress.say(`direct: one commit to ${fmtInt(n)} clusters at once`);
      const direct = await wave('direct');
      progress.say(`staged: one commit through 3 stages, soak ${fmtMs(soakMs)}`);
      const staged = await wave('staged');
      const soakSum = soakMs * stages.length;
      const overhead = staged.lastReadyMs - soakSum;
      const goal = GOAL_OVERHEAD_PER_STAGE_MS * (stages.length + 1);
      const size = `N = ${fmtInt(n)}, 3 stages`;
      const rows: ResultRow[] = [
        {
          size,
          metric: 'commit → last stage applied',
          gitfleet: fmtMs(staged.lastReadyMs),
          peerName: 'sum of soak times',
          peer: fmtMs(soakSum),
          ratio: ratio(staged.lastReadyMs, soakSum),
          goal: '',
        },
        {
          size,
          metric: 'overhead over the soak times',
          gitfleet: fmtMs(overhead),
          peerName: 'one wave, no stages',
          peer: fmtMs(direct.lastReadyMs),
          ratio: ratio(overhead, direct.lastReadyMs),
          goal: `≤ ${fmtMs(goal)} (${fmtMs(GOAL_OVERHEAD_PER_STAGE_MS)} per stage)`,
          met: overhead <= goal,
        },
        {
          size,
          metric: 'commit → rollout Finished',
          gitfleet: fmtMs(staged.finishedMs),
          peerName: 'soak of all 3 stages',
          peer: fmtMs(soakMs * 3),
          goal: '',
        },
      ];
      return {
        rows,
        notes: [
          `Stages: ring=canary (${fmtInt(Math.max(1, Math.round(n / 100)))} clusters), ring=early, the rest; max-unavailable 100%, soak ${fmtMs(soakMs)}. Simulated agents take ${fmtMs(100)} per apply and report Ready on the status stream; the hub's driver passes once a second, at the end of each soak, and on status reports (at most one pass per 250 ms). Timed from the moment \`git push\` returned (then ResolveRepo).`,
        ],
        details: {
          clusters: n,
          soakMs,
          direct,
          staged,
          overheadMs: overhead,
          statusReports: agents.reports,
          agentErrors: agents.errors,
        },
      };
    });
  },
};
