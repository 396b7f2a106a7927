// apply: one revision of N objects (ConfigMaps, Services, Deployments) applied by a real agent —
// from the desired set appearing on the bus to the agent's Ready report for that revision — next
// to `kubectl apply --server-side` of the same files into a fresh namespace of the same API
// server. Then the same revision again with nothing changed (the agent's resync): API writes
// counted on the API server's side (audit log), and the time of the pass.
import { join } from 'node:path';
import { fmtCpu, fmtInt, fmtMiB, fmtMs, ratio, type ResultRow } from '../lib/report.js';
import { BENCH_TENANT_ROLE } from '../lib/audit.js';
import { withFleet, kubectl } from '../lib/fleet.js';
import { mixedObjects, writeFiles } from '../../fixtures/manifests.js';
import { CpuWindow, readProc } from '../lib/proc.js';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../lib/scenario.js';
import { waitUntil } from '../lib/wait.js';

const CLUSTER = 'apply-1';
const TENANT = 'bench';
const NAMESPACE = 'bench-apply';
const PEER_NAMESPACE = 'bench-kubectl';
const RESYNC_SECONDS = 20;
const GOAL_RATIO = 0.5;

export const apply: Scenario = {
  name: 'apply',
  title: 'Apply one revision of many objects (agent vs. kubectl apply --server-side)',
  sizes: '1,000 objects (quick: 200)',
  async run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
    const n = ctx.size ?? (ctx.quick ? 200 : 1000);
    const progress = ctx.progress;
    return withFleet(progress, async (fleet) => {
      const api = fleet.hub.client;
      const files = mixedObjects(n, 'apps');
      const repo = await fleet.git.createRepo('apply', files);
      const manifests = join(fleet.dir, 'manifests');
      writeFiles(manifests, files);
      const kubectlCache = join(fleet.dir, 'kubectl-cache');

      // warm the API server up (first requests of each kind) for both contenders
      await kubectl(fleet.kube, ['create', 'namespace', 'bench-warmup'], kubectlCache);
      const warm = join(fleet.dir, 'warmup');
      writeFiles(warm, mixedObjects(10, 'apps'));
      await kubectl(
        fleet.kube,
        ['apply', '--server-side', '-f', warm, '--recursive', '-n', 'bench-warmup'],
        kubectlCache,
      );

      await api.tenants.createTenant({
        tenant: { name: TENANT, namespaces: [NAMESPACE], clusterRole: BENCH_TENANT_ROLE },
      });
      const created = await api.repos.createRepo({
        repo: { tenant: TENANT, name: 'apply', url: repo.url, branch: 'main' },
      });
      const revision = created.revision;
      await api.clusters.createCluster({ cluster: { name: CLUSTER, labels: { bench: 'apply' } } });
      const tap = fleet.tap(CLUSTER);
      progress.say(`starting the agent (gitfleet agent process, --resync ${RESYNC_SECONDS}s)`);
      const agent = await fleet.startAgent(CLUSTER, { resync: `${RESYNC_SECONDS}s` });
      await new Promise((r) => setTimeout(r, 1000)); // start-up settles (bootstrap reads)
      const agentIdle = readProc(agent.proc.pid!);

      // cold apply
      progress.say(`gitfleet: applying ${fmtInt(n)} objects`);
      const pids = { agent: agent.proc.pid, ...fleet.serverPids() };
      let cpu = new CpuWindow(pids);
      await api.assignments.createAssignment({
        assignment: {
          tenant: TENANT,
          name: 'apply',
          repo: 'apply',
          path: 'apps',
          clusters: [CLUSTER],
          prune: true,
        },
      });
      await waitUntil('cold apply', () => tap.ready(revision).length === 1, {
        timeoutMs: 600_000,
        progress,
        describe: () => {
          const s = tap.statuses.get(`${TENANT}/apply`)?.value;
          return s ? `${s.reason}: ${s.message.slice(0, 100)}` : 'waiting for a status';
        },
      });
      const coldCpu = cpu.end();
      const published = tap.firstDesired((set) => set.assignments.some((a) => a.name === 'apply'));
      const ready = tap.ready(revision)[0];
      if (!published) throw new Error('the desired set with the assignment was not seen on the bus');
      const coldMs = ready.at - published.at;
      const coldPassMs = ready.value.finishedAtMs - ready.value.startedAtMs;
      const agentAfterCold = readProc(agent.proc.pid!);
      const coldAudit = fleet.audit.count(published.at - 100, ready.at + 100, 'agent');
      const changes = ready.value.changes;
      progress.say(
        `gitfleet: Ready after ${fmtMs(coldMs)} (${changes?.created} created; the pass itself ${fmtMs(coldPassMs)}), agent peak RSS ${fmtMiB(agentAfterCold?.peakMiB)}; CPU ${fmtCpu(coldCpu)}`,
      );

      // the peer: kubectl into a fresh namespace
      await kubectl(fleet.kube, ['create', 'namespace', PEER_NAMESPACE], kubectlCache);
      progress.say(`kubectl apply --server-side: ${fmtInt(n)} objects`);
      cpu = new CpuWindow(pids);
      const peerCold = await kubectl(
        fleet.kube,
        ['apply', '--server-side', '-f', join(manifests, 'apps'), '--recursive', '-n', PEER_NAMESPACE],
        kubectlCache,
      );
      const peerColdCpu = cpu.end();
      const peerColdAudit = fleet.audit.count(peerCold.startedAt - 100, peerCold.endedAt + 100, 'kubectl');
      progress.say(
        `kubectl: ${fmtMs(peerCold.ms)} (${fmtInt(peerColdAudit.writes)} writes); CPU ${fmtCpu(peerColdCpu)}`,
      );

      // nothing changed: the agent's next resync pass of the same revision
      progress.say(
        `waiting for the agent's resync pass (every ${RESYNC_SECONDS} s) over the unchanged revision`,
      );
      const windowStart = Date.now();
      await waitUntil('no-change pass', () => tap.ready(revision, windowStart).length === 1, {
        timeoutMs: (RESYNC_SECONDS * 3 + 60) * 1000,
        progress,
        describe: () => 'waiting',
      });
      const again = tap.ready(revision, windowStart)[0];
      const againMs = again.value.finishedAtMs - again.value.startedAtMs;
      await new Promise((r) => setTimeout(r, 500)); // the audit log entry of the last request
      const passAudit = fleet.audit.count(
        again.value.startedAtMs - 50,
        again.value.finishedAtMs + 50,
        'agent',
      );
      const windowAudit = fleet.audit.count(windowStart, again.at + 200, 'agent');
      progress.say(
        `gitfleet no-change pass: ${fmtMs(againMs)}, ${passAudit.writes} writes, ${passAudit.reads} reads (${JSON.stringify(passAudit.byVerb)})`,
      );
      const peerAgain = await kubectl(
        fleet.kube,
        ['apply', '--server-side', '-f', join(manifests, 'apps'), '--recursive', '-n', PEER_NAMESPACE],
        kubectlCache,
      );
      const peerAgainAudit = fleet.audit.count(peerAgain.startedAt - 100, peerAgain.endedAt + 100, 'kubectl');
      progress.say(`kubectl again: ${fmtMs(peerAgain.ms)}, ${peerAgainAudit.writes} writes`);
      const agentEnd = readProc(agent.proc.pid!);

      const size = `${fmtInt(n)} objects`;
      const coldRatio = ratio(coldMs, peerCold.ms);
      const rows: ResultRow[] = [
        {
          size,
          metric: 'cold apply: desired set on the bus → Ready',
          gitfleet: fmtMs(coldMs),
          peerName: 'kubectl apply --server-side',
          peer: fmtMs(peerCold.ms),
          ratio: coldRatio,
          goal: `≤ ${GOAL_RATIO}× kubectl`,
          met: coldRatio !== undefined && coldRatio <= GOAL_RATIO,
        },
        {
          size,
          metric: 'cold apply: API requests (writes / reads)',
          gitfleet: `${fmtInt(coldAudit.writes)} / ${fmtInt(coldAudit.reads)}`,
          peerName: 'kubectl',
          peer: `${fmtInt(peerColdAudit.writes)} / ${fmtInt(peerColdAudit.reads)}`,
          goal: '',
        },
        {
          size,
          metric: 'agent RSS: idle after start / peak',
          gitfleet: `${fmtMiB(agentIdle?.rssMiB)} / ${fmtMiB(agentEnd?.peakMiB)}`,
          peerName: '-',
          peer: '',
          goal: '',
        },
        {
          size,
          metric: 'no-change pass: API writes',
          gitfleet: fmtInt(passAudit.writes),
          peerName: 'kubectl apply again',
          peer: fmtInt(peerAgainAudit.writes),
          goal: '0 writes',
          met: passAudit.writes === 0,
        },
        {
          size,
          metric: 'no-change pass: time',
          gitfleet: fmtMs(againMs),
          peerName: 'kubectl apply again',
          peer: fmtMs(peerAgain.ms),
          ratio: ratio(againMs, peerAgain.ms),
          goal: '',
        },
        {
          size,
          metric: 'no-change pass: API reads',
          gitfleet: fmtInt(passAudit.reads),
          peerName: 'kubectl apply again',
          peer: fmtInt(peerAgainAudit.reads),
          goal: '',
        },
      ];
      return {
        rows,
        notes: [
          `gitfleet is timed from the desired set's appearance on the bus (published by a real hub) to the agent's Ready status on the bus, for revision ${revision.slice(0, 20)}…; the agent runs as a \`gitfleet agent\` process (default concurrency) and its time includes the shallow git fetch, tenant setup and the persisted desired set. kubectl runs with a fresh discovery cache, as a pipeline job would. Objects: 60 % ConfigMaps, 20 % headless Services, 20 % Deployments, one per file; no controller-manager runs.`,
          `The no-change pass is the agent's own resync (every ${RESYNC_SECONDS} s here) of the unchanged revision; requests are counted from the API server's audit log between the pass's start and finish (the whole wait had ${windowAudit.writes} agent writes and ${windowAudit.reads} reads).`,
        ],
        details: {
          objects: n,
          revision,
          cold: {
            ms: coldMs,
            passMs: coldPassMs,
            changes,
            agentRequests: coldAudit,
            agentPeakRssMiB: agentAfterCold?.peakMiB,
            cpuMs: coldCpu,
          },
          kubectlCold: { ms: peerCold.ms, requests: peerColdAudit, cpuMs: peerColdCpu },
          noChange: {
            passMs: againMs,
            agentRequests: passAudit,
            windowRequests: windowAudit,
            changes: again.value.changes,
          },
          kubectlAgain: { ms: peerAgain.ms, requests: peerAgainAudit },
          agentIdleRssMiB: agentIdle?.rssMiB,
          agentPeakRssMiB: agentEnd?.peakMiB,
          agentCpuMs: agentEnd?.cpuMs,
        },
      };
    });
  },
};
