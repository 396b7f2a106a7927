// assignments: many assignments of 10 objects each on one cluster, cold — every assignment is
// registered at the hub before the agent starts, then the agent starts and reconciles them all.
// Time from the agent's start to every assignment Ready, and the agent's peak RSS. Anchor: Flux's
// published benchmark (1,000 Kustomizations in 4m16s, kustomize-controller at 175 MiB, 16 cores).
import { fmtInt, fmtMiB, fmtMs, ratio, type ResultRow } from '../lib/report.js';
import { seedOneCluster, withFleet } from '../lib/fleet.js';
import { appYaml } from '../../fixtures/manifests.js';
import { readProc } from '../lib/proc.js';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../lib/scenario.js';
import { forEachLimit, waitUntil, waitUntilAsync } from '../lib/wait.js';
import { AssignmentState } from '../../../proto/index.js';
import {} from '../../../proto/api.js';

const CLUSTER = 'assign-1';
const TENANT = 'bench';
const NAMESPACES = Array.from({ length: 10 }, (_, i) => `bench-ns-${i}`);
const GOAL_MS = 60_000;
const GOAL_MIB = 150;
const FLUX = { ms: 4 * 60_000 + 16_000, mib: 175, note: '1,000 Kustomizations on a 16-core runner' };

function appName(i: number): string {
  return `app-${String(i + 1).padStart(4, '0')}`;
}

export const assignments: Scenario = {
  name: 'assignments',
  title: 'Many assignments on one cluster, cold (vs. Flux kustomize-controller, published)',
  sizes: '1,000 assignments × 10 objects (quick: 100 × 10)',
  async run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
    const n = ctx.size ?? (ctx.quick ? 100 : 1000);
    const progress = ctx.progress;
    return withFleet(progress, async (fleet) => {
      const api = fleet.hub.client;
      const files: Record<string, string> = {};
      for (let i = 0; i < n; i++) files[`apps/${appName(i)}/app.yaml`] = appYaml(appName(i));
      const { revision, tap } = await seedOneCluster(fleet, {
        tenant: TENANT,
        namespaces: NAMESPACES,
        cluster: CLUSTER,
        labels: { bench: 'assignments' },
        files,
        repoIntervalSeconds: 3600,
      });

      const names = Array.from({ length: n }, (_, i) => appName(i));
      let started = Date.now();
      await forEachLimit(
        names,
        8,
        async (name, i) =>
          void (await api.assignments.createAssignment({
            assignment: {
              tenant: TENANT,
              name,
              repo: 'apps',
              path: `apps/${name}`,
              clusters: [CLUSTER],
              targetNamespace: NAMESPACES[i % NAMESPACES.length],
              prune: true,
            },
          })),
        (done) => progress.count('creating assignments', done, n, started),
      );
      const createMs = Date.now() - started;
      await waitUntil(
        'desired set with every assignment',
        () => tap.desired.some((d) => d.value.assignments.length === n),
        {
          timeoutMs: 120_000,
          progress,
          describe: () => `${tap.desired.at(-1)?.value.assignments.length ?? 0}/${n} assignments published`,
        },
      );
      progress.say(`${fmtInt(n)} assignments created in ${fmtMs(createMs)}; starting the agent`);

      // cold: the agent starts with all of them desired
      const t0 = Date.now();
      const agent = await fleet.startAgent(CLUSTER, { resync: '10m' });
      started = Date.now();
      await waitUntil('all Ready', () => tap.ready(revision).length === n, {
        timeoutMs: 20 * 60_000,
        intervalMs: 100,
        progress,
        describe: () => {
          const failed = [...tap.statuses.values()].filter(
            (s) => s.value.state === AssignmentState.ASSIGNMENT_STATE_FAILED,
          );
          return `${fmtInt(tap.ready(revision).length)}/${fmtInt(n)} Ready${failed.length ? `, ${failed.length} failed (${failed[0].value.message.slice(0, 80)})` : ''}, agent RSS ${fmtMiB(readProc(agent.proc.pid!)?.rssMiB)}`;
        },
      });
      const readyAt = Math.max(...tap.ready(revision).map((s) => s.at));
      const busMs = readyAt - t0;
      const agentUse = readProc(agent.proc.pid!);
      progress.say(
        `all ${fmtInt(n)} Ready on the bus ${fmtMs(busMs)} after the agent started; peak RSS ${fmtMiB(agentUse?.peakMiB)}`,
      );
      let hubReady = 0;
      await waitUntilAsync(
        'hub shows all Ready',
        async () => {
          const res = await api.status.getStatus({ tenant: TENANT });
          hubReady = res.statuses.filter(
            (s) => s.state === AssignmentState.ASSIGNMENT_STATE_READY && s.appliedRevision === revision,
          ).length;
          return hubReady === n;
        },
        { timeoutMs: 300_000, intervalMs: 250, progress, describe: () => `${fmtInt(hubReady)}/${fmtInt(n)}` },
      );
      const hubMs = Date.now() - t0;
      const requests = fleet.audit.count(t0, readyAt + 100, 'agent');

      const size = `${fmtInt(n)} × 10 objects`;
      const fluxName = `Flux, published: ${FLUX.note}`;
      const rows: ResultRow[] = [
        {
          size,
          metric: 'cold: agent start → all Ready (on the bus)',
          gitfleet: fmtMs(busMs),
          peerName: fluxName,
          peer: fmtMs(FLUX.ms),
          ratio: ratio(busMs, FLUX.ms),
          goal: `≤ ${fmtMs(GOAL_MS)}`,
          met: busMs <= GOAL_MS,
        },
        {
          size,
          metric: 'agent peak RSS',
          gitfleet: fmtMiB(agentUse?.peakMiB),
          peerName: fluxName,
          peer: fmtMiB(FLUX.mib),
          ratio: ratio(agentUse?.peakMiB, FLUX.mib),
          goal: `≤ ${GOAL_MIB} MiB`,
          met: (agentUse?.peakMiB ?? Infinity) <= GOAL_MIB,
        },
        {
          size,
          metric: 'cold: agent start → hub GetStatus shows all Ready',
          gitfleet: fmtMs(hubMs),
          peerName: '-',
          peer: '',
          goal: '',
        },
        {
          size,
          metric: 'agent API requests (writes / reads)',
          gitfleet: `${fmtInt(requests.writes)} / ${fmtInt(requests.reads)}`,
          peerName: '-',
          peer: '',
          goal: '',
        },
      ];
      return {
        rows,
        notes: [
          `One tenant with ${NAMESPACES.length} namespaces; assignment i applies apps/app-i (a Deployment scaled to zero, a ServiceAccount, a headless Service, 7 ConfigMaps) into namespace i mod ${NAMESPACES.length}. All assignments are created at the hub first; the clock starts when the \`gitfleet agent\` process is spawned (default concurrency 4). Flux's numbers are its published run on other hardware: an anchor, not a same-machine peer.`,
        ],
        details: {
          assignments: n,
          objects: n * 10,
          createAssignmentsMs: createMs,
          coldToAllReadyOnBusMs: busMs,
          coldToHubShowsAllReadyMs: hubMs,
          agentPeakRssMiB: agentUse?.peakMiB,
          agentCpuMs: agentUse?.cpuMs,
          agentRequests: requests,
          flux: FLUX,
        },
      };
    });
  },
};
