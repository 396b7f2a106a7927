// steady: nothing changes. Over a window, the API requests the agent makes (audit log; reads and
// writes apart), the NATS messages hub and agent exchange (nats-server /connz deltas per
// connection) and the git requests (the hub's scheduled ls-remote). Goal: no writes, and reads
// bounded by the resync interval — at most one read per managed object (and inventory) per pass.
import { performance } from 'node:perf_hooks';
import { fmtInt, type ResultRow } from '../lib/report.js';
import { seedOneCluster, withFleet } from '../lib/fleet.js';
import { appYaml } from '../../fixtures/manifests.js';
import { connz, delta } from '../lib/nats-monitor.js';
import { readProc } from '../lib/proc.js';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../lib/scenario.js';
import { waitUntil } from '../lib/wait.js';

const CLUSTER = 'steady-1';
const TENANT = 'bench';
const NAMESPACE = 'bench-steady';
const ASSIGNMENTS = 10;
const OBJECTS_PER_ASSIGNMENT = 10;
const RESYNC_SECONDS = 15;
const REPO_INTERVAL_SECONDS = 30;
/** Reads one tenant onboarding may make per pass (namespace, ServiceAccount, RoleBinding). */
const TENANT_OBJECTS = 3;

export const steady: Scenario = {
  name: 'steady',
  title: 'Steady state: requests and messages per minute with nothing changing',
  sizes: '60 s window (quick: 15 s), 10 assignments × 10 objects, agent resync 15 s',
  async run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
    const windowSec = ctx.size ?? (ctx.quick ? 15 : 60);
    const progress = ctx.progress;
    return withFleet(progress, async (fleet) => {
      const api = fleet.hub.client;
      const files: Record<string, string> = {};
      for (let i = 1; i <= ASSIGNMENTS; i++) files[`apps/app-${i}/app.yaml`] = appYaml(`app-${i}`);
      // the repo is re-resolved every 30 s (default 60 s), so that every window sees the hub's ls-remotes
      const { revision, tap } = await seedOneCluster(fleet, {
        tenant: TENANT,
        namespaces: [NAMESPACE],
        cluster: CLUSTER,
        labels: { bench: 'steady' },
        files,
        repoIntervalSeconds: REPO_INTERVAL_SECONDS,
      });
      const agent = await fleet.startAgent(CLUSTER, { resync: `${RESYNC_SECONDS}s` });
      for (let i = 1; i <= ASSIGNMENTS; i++) {
        await api.assignments.createAssignment({
          assignment: {
            tenant: TENANT,
            name: `app-${i}`,
            repo: 'apps',
            path: `apps/app-${i}`,
            clusters: [CLUSTER],
          },
        });
      }
      await waitUntil('all Ready', () => tap.ready(revision).length === ASSIGNMENTS, {
        timeoutMs: 120_000,
        progress,
        describe: () => `${tap.ready(revision).length}/${ASSIGNMENTS}`,
      });
      await new Promise((r) => setTimeout(r, 3000)); // let the first passes' follow-ups settle

      progress.say(`measuring ${windowSec} s of steady state`);
      const agentName = `gitfleet-agent-${CLUSTER}`;
      const before = await connz(fleet.nats.monitorUrl);
      const gitBefore = fleet.git.requests();
      const statusBefore = tap.statusMessages;
      const heartbeatsBefore = tap.heartbeats;
      const agentBefore = readProc(agent.proc.pid!);
      const hubBefore = readProc(fleet.hub.proc.pid!);
      const t0 = Date.now();
      const p0 = performance.now();
      // the window is a duration to observe, not a condition to wait for
      await waitUntil('steady window', () => performance.now() - p0 >= windowSec * 1000, {
        timeoutMs: windowSec * 1000 + 10_000,
        intervalMs: 200,
        progress,
        describe: () => `${Math.round((performance.now() - p0) / 1000)}/${windowSec} s`,
      });
      const t1 = Date.now();
      const after = await connz(fleet.nats.monitorUrl);
      await new Promise((r) => setTimeout(r, 300));
      const perMin = (v: number) => (v * 60_000) / (t1 - t0);
      const requests = fleet.audit.count(t0, t1, 'agent');
      const hub = delta(before, after, 'gitfleet-hub');
      const ag = delta(before, after, agentName);
      const agentAfter = readProc(agent.proc.pid!);
      const hubAfter = readProc(fleet.hub.proc.pid!);
      const passesPerMin = 60 / RESYNC_SECONDS;
      const readBound = (ASSIGNMENTS * (OBJECTS_PER_ASSIGNMENT + 1) + TENANT_OBJECTS + 1) * passesPerMin;
      const readsPerMin = perMin(requests.reads);
      const size = `${ASSIGNMENTS} × ${OBJECTS_PER_ASSIGNMENT} objects, ${windowSec} s`;
      const rows: ResultRow[] = [
        {
          size,
          metric: 'agent API writes / min',
          gitfleet: fmtInt(perMin(requests.writes)),
          peerName: '-',
          peer: '',
          goal: '0',
          met: requests.writes === 0,
        },
        {
          size,
          metric: `agent API reads / min (resync ${RESYNC_SECONDS} s)`,
          gitfleet: fmtInt(readsPerMin),
          peerName: 'one read per object per resync',
          peer: fmtInt(readBound),
          ratio: readsPerMin / readBound,
          goal: '≤ bound',
          met: readsPerMin <= readBound,
        },
        {
          size,
          metric: 'agent NATS msgs / min (published / received)',
          gitfleet: `${fmtInt(perMin(ag.inMsgs))} / ${fmtInt(perMin(ag.outMsgs))}`,
          peerName: '-',
          peer: '',
          goal: '',
        },
        {
          size,
          metric: 'hub NATS msgs / min (published / received)',
          gitfleet: `${fmtInt(perMin(hub.inMsgs))} / ${fmtInt(perMin(hub.outMsgs))}`,
          peerName: '-',
          peer: '',
          goal: '',
        },
        {
          size,
          metric: 'status reports / heartbeats on the bus / min',
          gitfleet: `${fmtInt(perMin(tap.statusMessages - statusBefore))} / ${fmtInt(perMin(tap.heartbeats - heartbeatsBefore))}`,
          peerName: '-',
          peer: '',
          goal: '',
        },
        {
          size,
          metric: `git HTTP requests / min (hub ls-remote every ${REPO_INTERVAL_SECONDS} s)`,
          gitfleet: fmtInt(perMin(fleet.git.requests() - gitBefore)),
          peerName: '-',
          peer: '',
          goal: '',
        },
      ];
      return {
        rows,
        notes: [
          `The agent resyncs every ${RESYNC_SECONDS} s here (default 1 m: reads scale down 4×); the hub re-resolves the repo every ${REPO_INTERVAL_SECONDS} s (default 1 m; one ls-remote is 2 HTTP requests). The read bound is one read per managed object plus one per inventory per assignment, plus the tenant's ${TENANT_OBJECTS} objects and one orphan scan, per resync pass. NATS counts are per connection as nats-server sees them: "published" = messages the client sent (including acks and pull requests), "received" = messages delivered to it.`,
        ],
        details: {
          windowMs: t1 - t0,
          resyncSeconds: RESYNC_SECONDS,
          assignments: ASSIGNMENTS,
          agentRequests: requests,
          agentRequestsPerMin: { reads: readsPerMin, writes: perMin(requests.writes) },
          readBoundPerMin: readBound,
          nats: { hub, agent: ag },
          statusReports: tap.statusMessages - statusBefore,
          heartbeats: tap.heartbeats - heartbeatsBefore,
          gitRequests: fleet.git.requests() - gitBefore,
          agentCpuMs: agentAfter && agentBefore ? agentAfter.cpuMs - agentBefore.cpuMs : undefined,
          hubCpuMs: hubAfter && hubBefore ? hubAfter.cpuMs - hubBefore.cpuMs : undefined,
          agentRssMiB: agentAfter?.rssMiB,
          hubRssMiB: hubAfter?.rssMiB,
        },
      };
    });
  },
};
