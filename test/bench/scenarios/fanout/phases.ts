// The phases of one fanout size, in the order they run: the raw NATS floor, the hub, registration
// of N clusters, N watchers up, the first desired set, the measured assignment change and the
// reconnect storm. Each fills in its part of the size's result.
import { performance } from 'node:perf_hooks';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { DESIRED_BUCKET, kvStream } from '../../../../proto/index.js';
import { startGit, type NatsEnv } from '../../../env/index.js';
import { CpuWindow, findPid, ProcWindow, startHubProcess, type HubProcess } from '../../lib/proc.js';
import type { Progress } from '../../lib/progress.js';
import { fmtCpu, fmtInt, fmtMiB, fmtMs } from '../../lib/report.js';
import type { Cleanup } from '../../lib/scenario.js';
import { forEachLimit, waitUntil, waitUntilAsync, type Budget } from '../../lib/wait.js';
import {
  ASSIGNMENT,
  LABELS,
  REGISTER_CONCURRENCY,
  REPO,
  TENANT,
  connectAgents,
  desiredSetBytes,
  type SizeResult,
} from './common.js';
import { runFloor } from './floor.js';
import { SimulatedAgents } from './watchers.js';

/** What the phases of one size share. */
export interface SizeRun {
  n: number;
  connections: number;
  /** The N cluster names. */
  names: string[];
  dir: string;
  nats: NatsEnv;
  progress: Progress;
  budget: Budget;
  cleanup: Cleanup;
  result: SizeResult;
}

/** The floor first, on the fresh server, with values the size of the desired set below. */
export async function measureFloor(run: SizeRun): Promise<void> {
  const bytes = desiredSetBytes(run.n);
  run.progress.say(
    `raw NATS floor: ${fmtInt(run.n)} keys, ${run.connections} connections, ${bytes}-byte values`,
  );
  run.result.floor = await runFloor(run.nats, run.n, run.connections, bytes, run.progress, run.budget);
}

/** A `gitfleet hub` process with the tenant and its repo (two paths: apps and apps-v2). */
export async function startHub(run: SizeRun): Promise<HubProcess> {
  const git = await startGit();
  run.cleanup.add('git server', () => git.stop());
  const repo = await git.createRepo('fleet', {
    'apps/config.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fleet\ndata:\n  v: "1"\n',
    'apps-v2/config.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fleet\ndata:\n  v: "2"\n',
  });
  const hub = await startHubProcess({ natsUrl: run.nats.url, dir: run.dir });
  run.cleanup.add('hub', () => hub.stop());
  await hub.client.tenants.createTenant({ tenant: { name: TENANT, namespaces: [TENANT] } });
  await hub.client.repos.createRepo({
    repo: { tenant: TENANT, name: REPO, url: repo.url, branch: 'main' },
  });
  return hub;
}

/** Registration of N clusters through the API, bounded, until every first desired set is on the bus. */
export async function register(run: SizeRun, hub: HubProcess): Promise<void> {
  const { n, progress, budget } = run;
  const probe = await connect({ servers: [run.nats.url], name: 'bench-probe' });
  run.cleanup.add('probe connection', () => probe.close());
  const jsm = await jetstreamManager(probe);
  const keysOnBus = async () => {
    try {
      return (await jsm.streams.info(kvStream(DESIRED_BUCKET))).state.messages;
    } catch {
      return 0;
    }
  };
  const started = Date.now();
  const regWindow = new ProcWindow(hub.proc.pid!);
  const t = performance.now();
  await forEachLimit(
    run.names,
    REGISTER_CONCURRENCY,
    async (name) => void (await hub.client.clusters.createCluster({ cluster: { name, labels: LABELS } })),
    (done) => progress.count('registering clusters', done, n, started),
    budget,
    'registration',
  );
  const regMs = performance.now() - t;
  let onBus = 0;
  await waitUntilAsync('first desired sets on the bus', async () => (onBus = await keysOnBus()) >= n, {
    timeoutMs: Math.max(60_000, budget.remainingMs),
    intervalMs: 250,
    budget,
    progress,
    describe: () => `${fmtInt(onBus)}/${fmtInt(n)} keys`,
  });
  const publishedMs = performance.now() - t;
  const reg = regWindow.end();
  run.result.registration = {
    ms: regMs,
    perSecond: Math.round(n / (regMs / 1000)),
    publishedMs,
    hubRssMiB: reg?.rssMiB,
    hubCpuMs: reg?.cpuMs,
  };
  progress.say(
    `registered ${fmtInt(n)} clusters in ${fmtMs(regMs)} (${fmtInt(run.result.registration.perSecond)}/s), all keys on the bus after ${fmtMs(publishedMs)}; hub RSS ${fmtMiB(reg?.rssMiB)}`,
  );
}

/** The processes whose CPU the gitfleet phases account: the bench (the watchers), hub, nats-server. */
function pids(run: SizeRun, hub: HubProcess): Record<string, number | undefined> {
  return { bench: process.pid, hub: hub.proc.pid, 'nats-server': findPid(run.nats.dir) };
}

/** N watchers on a few connections, started together, until each has read its key. */
export async function startWatchers(run: SizeRun, hub: HubProcess): Promise<SimulatedAgents> {
  const { n, progress } = run;
  const conns = await Promise.all(
    Array.from({ length: run.connections }, (_, i) => connectAgents(run.nats.url, `bench-agents-${i}`)),
  );
  run.cleanup.add('watcher connections', () => Promise.all(conns.map((c) => c.close())));
  const agents = new SimulatedAgents(conns, run.names);
  run.cleanup.add('watchers', () => agents.stop());
  const cpu = new CpuWindow(pids(run, hub));
  const t = performance.now();
  agents.start();
  await waitUntil('watchers up', () => agents.up === n, {
    timeoutMs: 300_000,
    budget: run.budget,
    progress,
    describe: () => `${fmtInt(agents.up)}/${fmtInt(n)} watchers read their key`,
  });
  run.result.watchersUpMs = performance.now() - t;
  run.result.cpu.watchersUp = cpu.end();
  progress.say(`${fmtInt(n)} watchers up in ${fmtMs(run.result.watchersUpMs)}`);
  return agents;
}

/** CreateAssignment: the first desired set with the assignment, at path apps. */
export async function firstDesired(run: SizeRun, hub: HubProcess, agents: SimulatedAgents): Promise<void> {
  const first = await agents.arrivalOf(
    'first desired set',
    'apps',
    () =>
      hub.client.assignments.createAssignment({
        assignment: { tenant: TENANT, name: ASSIGNMENT, repo: REPO, path: 'apps', selector: LABELS },
      }),
    run.progress,
    run.budget,
  );
  run.result.firstDesired = first.dist;
  run.progress.say(`CreateAssignment reached all ${fmtInt(run.n)} in ${fmtMs(first.dist.max)}`);
}

/** The measured change: UpdateAssignment to path apps-v2, until every watcher has it. */
export async function assignmentChange(
  run: SizeRun,
  hub: HubProcess,
  agents: SimulatedAgents,
): Promise<void> {
  const changeWindow = new ProcWindow(hub.proc.pid!);
  const cpu = new CpuWindow(pids(run, hub));
  const change = await agents.arrivalOf(
    'assignment change',
    'apps-v2',
    () =>
      hub.client.assignments.updateAssignment({
        assignment: { tenant: TENANT, name: ASSIGNMENT, repo: REPO, path: 'apps-v2', selector: LABELS },
      }),
    run.progress,
    run.budget,
  );
  const hubUse = changeWindow.end();
  run.result.cpu.change = cpu.end();
  run.result.change = {
    apiMs: change.apiMs,
    fanout: change.dist,
    missing: change.missing,
    hubCpuMs: hubUse?.cpuMs,
    hubPeakRssMiB: hubUse?.peakRssMiB,
    hubRssMiB: hubUse?.rssMiB,
  };
  run.progress.say(
    `UpdateAssignment → ${fmtInt(run.n)} watchers: p50 ${fmtMs(change.dist.p50)} p99 ${fmtMs(change.dist.p99)} max ${fmtMs(change.dist.max)} (API call ${fmtMs(change.apiMs)}); hub peak RSS ${fmtMiB(hubUse?.peakRssMiB)}; CPU ${fmtCpu(run.result.cpu.change)}`,
  );
  run.result.watcherErrorsBeforeReconnect = { ...agents.errors.byKind };
}

/** Restarts nats-server; every watcher must read its key again. */
export async function reconnectStorm(run: SizeRun, hub: HubProcess, agents: SimulatedAgents): Promise<void> {
  const { n, budget, progress } = run;
  const errors = agents.errors;
  const errorsBefore = errors.total;
  const byKindBefore = { ...errors.byKind };
  const restartT0 = performance.now();
  await run.nats.restart();
  const serverUp = performance.now();
  const cpu = new CpuWindow(pids(run, hub));
  let reReadCount = 0;
  await waitUntil(
    'reconnect storm',
    () => {
      reReadCount = agents.readSince(restartT0);
      return reReadCount === n;
    },
    {
      timeoutMs: Math.max(120_000, Math.min(budget.remainingMs, 600_000)),
      intervalMs: 100,
      budget,
      progress,
      describe: () =>
        `${fmtInt(reReadCount)}/${fmtInt(n)} watchers re-read their key, ${errors.total - errorsBefore} errors`,
    },
  );
  run.result.cpu.reconnect = cpu.end();
  const lastReRead = agents.lastReadAfter(restartT0);
  const kinds: Record<string, number> = {};
  for (const [k, v] of Object.entries(errors.byKind))
    if (v - (byKindBefore[k] ?? 0) > 0) kinds[k] = v - (byKindBefore[k] ?? 0);
  run.result.reconnect = {
    restartMs: serverUp - restartT0,
    allReReadFromRestartMs: lastReRead - restartT0,
    allReReadFromServerUpMs: lastReRead - serverUp,
    errors: kinds,
    errorTotal: errors.total - errorsBefore,
    missing: n - agents.readSince(restartT0),
  };
  progress.say(
    `reconnect storm: server back after ${fmtMs(serverUp - restartT0)}, all ${fmtInt(n)} re-read ${fmtMs(lastReRead - serverUp)} later, ${errors.total - errorsBefore} errors`,
  );
}
