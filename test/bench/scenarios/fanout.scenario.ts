// fanout: one assignment change reaching N agents. N simulated agents are N DesiredSetWatchers
// from agent/ (the agent's own watcher: a core subscription to its key's subject plus direct gets
// through a shared, bounded pool) sharing a few NATS connections in this process; the hub is a
// real `gitfleet hub` process with SQLite on a real nats-server. Peer: the raw NATS floor — the
// same N keys put by a bare KV client and observed by bare direct-get + subscription watchers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AGENT_NATS_OPTIONS } from '../../../agent/bus/hub-connection.js';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { DESIRED_BUCKET, DesiredSet } from '../../../proto/index.js';
import { DesiredSetWatcher } from '../../../agent/main.js';
import { removeOnExit } from '../../env/process.js';
import { startGit, startNats, type NatsEnv } from '../../env/index.js';
import { CpuWindow, findPid, startHubProcess, ProcWindow, readProc } from '../lib/proc.js';
import type { Progress } from '../lib/progress.js';
import { fmtCpu, fmtInt, fmtMiB, fmtMs, ratio, type ResultRow } from '../lib/report.js';
import { Cleanup, type Scenario, type ScenarioContext, type ScenarioOutcome } from '../lib/scenario.js';
import { distribution, rounded, type Distribution } from '../lib/stats.js';
import { Budget, BudgetExceeded, forEachLimit, waitUntil, waitUntilAsync } from '../lib/wait.js';

/** Watchers per bench NATS connection (the scale notes' 10,000 on one connection). */
const WATCHERS_PER_CONNECTION = 10_000;
/** CreateCluster calls in flight during registration. */
const REGISTER_CONCURRENCY = 32;
/** Floor: puts in flight (the hub's PUBLISH_CONCURRENCY) and direct gets in flight per connection (the agent pool's). */
const FLOOR_PUT_CONCURRENCY = 256;
const FLOOR_GET_CONCURRENCY = 64;
const FLOOR_BUCKET = 'bench-floor';
const GOAL_RATIO = 1.5;

const LABELS = { fleet: 'bench' };
const TENANT = 'fleet';
const REPO = 'apps';
const ASSIGNMENT = 'fleet-apps';

function clusterName(i: number): string {
  return `c-${String(i + 1).padStart(6, '0')}`;
}

function connectAgents(url: string, name: string): Promise<NatsConnection> {
  return connect({ servers: [url], name, ...AGENT_NATS_OPTIONS });
}

/** Errors by kind, as the watchers report them. */
class ErrorTally {
  readonly byKind: Record<string, number> = {};
  total = 0;
  add(err: Error): void {
    const m = err.message;
    const kind = /timeout/i.test(m)
      ? 'timeout'
      : /no responders|503/i.test(m)
        ? 'no responders'
        : /disconnect|closed|connection/i.test(m)
          ? 'connection'
          : 'other';
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
    this.total++;
  }
}

// ---- the raw NATS floor --------------------------------------------------------------------

interface FloorResult {
  putsMs: number;
  upMs: number;
  fanout: Distribution;
  fanoutPutsMs: number;
  missing: number;
  getErrors: number;
  /** CPU ms per process while the bare watchers came up and during the fan-out. */
  cpu: { up: Record<string, number>; fanout: Record<string, number> };
}

async function runFloor(
  nats: NatsEnv,
  n: number,
  connections: number,
  payloadBytes: number,
  progress: Progress,
  budget: Budget,
): Promise<FloorResult> {
  const cleanup = new Cleanup();
  try {
    const writer = await connect({ servers: [nats.url], name: 'bench-floor-writer' });
    cleanup.add('floor writer', () => writer.close());
    const kv = await new Kvm(writer).create(FLOOR_BUCKET, { history: 1, allow_direct: true });
    const keys = Array.from({ length: n }, (_, i) => clusterName(i));
    const value = (round: number) => {
      const v = new Uint8Array(payloadBytes);
      v[0] = round;
      return v;
    };

    let started = Date.now();
    let t = performance.now();
    await forEachLimit(
      keys,
      FLOOR_PUT_CONCURRENCY,
      async (k) => void (await kv.put(k, value(1))),
      (done) => progress.count('floor: initial puts', done, n, started),
      budget,
      'floor puts',
    );
    const putsMs = performance.now() - t;

    const conns = await Promise.all(
      Array.from({ length: connections }, (_, i) => connectAgents(nats.url, `bench-floor-${i}`)),
    );
    cleanup.add('floor connections', () => Promise.all(conns.map((c) => c.close())));
    const seen = new Uint8Array(n); // round seen per key
    const arrived = new Float64Array(n).fill(NaN);
    let fanoutT0 = NaN;
    let arrivedCount = 0;
    const observe = (i: number, data: Uint8Array) => {
      const round = data[0] ?? 0;
      if (round <= seen[i]) return;
      seen[i] = round;
      if (round === 2 && Number.isNaN(arrived[i])) {
        arrived[i] = performance.now() - fanoutT0;
        arrivedCount++;
      }
    };
    keys.forEach((k, i) => {
      conns[i % connections].subscribe(`$KV.${FLOOR_BUCKET}.${k}`, {
        callback: (err, msg) => {
          if (!err) observe(i, msg.data);
        },
      });
    });
    let getErrors = 0;
    started = Date.now();
    const pids = { bench: process.pid, 'nats-server': findPid(nats.dir) };
    const upCpu = new CpuWindow(pids);
    t = performance.now();
    const getOne = async (i: number): Promise<void> => {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          const msg = await conns[i % connections].request(
            `$JS.API.DIRECT.GET.KV_${FLOOR_BUCKET}`,
            JSON.stringify({ last_by_subj: `$KV.${FLOOR_BUCKET}.${keys[i]}` }),
            { timeout: 5000 },
          );
          observe(i, msg.data);
          return;
        } catch {
          getErrors++;
        }
      }
    };
    // bounded per connection, like the agent's DirectGetPool
    await Promise.all(
      conns.map((_, c) => {
        const mine = keys.map((_k, i) => i).filter((i) => i % connections === c);
        return forEachLimit(mine, FLOOR_GET_CONCURRENCY, getOne, undefined, budget, 'floor gets');
      }),
    );
    const upMs = performance.now() - t;
    const cpuUp = upCpu.end();
    progress.say(`floor: ${fmtInt(n)} bare watchers up in ${fmtMs(upMs)}`);

    started = Date.now();
    const fanoutCpu = new CpuWindow(pids);
    fanoutT0 = performance.now();
    await forEachLimit(
      keys,
      FLOOR_PUT_CONCURRENCY,
      async (k) => void (await kv.put(k, value(2))),
      (done) => progress.count('floor: fan-out puts', done, n, started),
      budget,
      'floor fan-out',
    );
    const fanoutPutsMs = performance.now() - fanoutT0;
    await waitUntil('floor fan-out', () => arrivedCount === n, {
      timeoutMs: 120_000,
      budget,
      progress,
      describe: () => `${fmtInt(arrivedCount)}/${fmtInt(n)} watchers have the new value`,
    }).catch((err: Error) => progress.say(err.message));
    const cpuFanout = fanoutCpu.end();
    const fanout = distribution(arrived);
    progress.say(
      `floor: fan-out to ${fmtInt(n)} p50 ${fmtMs(fanout.p50)} p99 ${fmtMs(fanout.p99)} max ${fmtMs(fanout.max)}; CPU ${fmtCpu(cpuFanout)}`,
    );
    await kv.destroy().catch(() => undefined);
    return {
      putsMs,
      upMs,
      fanout,
      fanoutPutsMs,
      missing: n - arrivedCount,
      getErrors,
      cpu: { up: cpuUp, fanout: cpuFanout },
    };
  } finally {
    await cleanup.run(progress);
  }
}

// ---- gitfleet ------------------------------------------------------------------------------

/** The agent's watcher, timing its successful direct gets (to see re-reads after a reconnect). */
class TimedWatcher extends DesiredSetWatcher {
  lastFetchAt = NaN;

  override async fetchOnce(): ReturnType<DesiredSetWatcher['fetchOnce']> {
    const r = await super.fetchOnce();
    if (r === 'ok') this.lastFetchAt = performance.now();
    return r;
  }
}

interface Phase {
  path: string;
  t0: number;
  times: Float64Array;
  remaining: number;
}

interface SizeResult {
  n: number;
  connections: number;
  floor?: FloorResult;
  registration?: {
    ms: number;
    perSecond: number;
    publishedMs: number;
    hubRssMiB?: number;
    hubCpuMs?: number;
  };
  watchersUpMs?: number;
  firstDesired?: Distribution;
  change?: {
    apiMs: number;
    fanout: Distribution;
    missing: number;
    hubCpuMs?: number;
    hubPeakRssMiB?: number;
    hubRssMiB?: number;
  };
  reconnect?: {
    restartMs: number;
    allReReadFromRestartMs: number;
    allReReadFromServerUpMs: number;
    errors: Record<string, number>;
    errorTotal: number;
    missing: number;
  };
  watcherErrorsBeforeReconnect?: Record<string, number>;
  /** CPU ms per process (bench, hub, nats-server) per phase. */
  cpu: Record<string, Record<string, number>>;
  benchRssMiB?: number;
  stoppedAt?: string;
  error?: string;
}

async function runSize(n: number, ctx: ScenarioContext, budget: Budget): Promise<SizeResult> {
  const progress = ctx.progress.child(` N=${fmtInt(n)}`);
  const connections = Math.max(2, Math.ceil(n / WATCHERS_PER_CONNECTION));
  const result: SizeResult = { n, connections, cpu: {} };
  const cleanup = new Cleanup();
  const dir = removeOnExit(mkdtempSync(join(tmpdir(), 'gitfleet-bench-fanout-')));
  cleanup.add('temp dir', () => rmSync(dir, { recursive: true, force: true }));
  let phaseName = 'start';
  try {
    phaseName = 'starting nats-server';
    const nats = await startNats();
    cleanup.add('nats-server', () => nats.destroy());

    // the floor first, on the fresh server, with values the size of the desired set below
    const sample = DesiredSet.encode({
      cluster: clusterName(n - 1),
      generation: 3,
      tenants: [
        { name: TENANT, namespaces: [TENANT], serviceAccount: 'gitfleet-reconciler', clusterRole: 'admin' },
      ],
      assignments: [
        {
          tenant: TENANT,
          name: ASSIGNMENT,
          repo: REPO,
          source: {
            type: 'git',
            url: 'http://127.0.0.1:40000/fleet.git',
            revision: `main@sha1:${'a'.repeat(40)}`,
            commit: 'a'.repeat(40),
            credentials: undefined,
          },
          path: 'apps-v2',
          targetNamespace: TENANT,
          prune: false,
          suspend: false,
          renderer: 'auto',
        },
      ],
      publishedAtMs: Date.now(),
    }).finish();
    phaseName = 'raw NATS floor';
    progress.say(
      `raw NATS floor: ${fmtInt(n)} keys, ${connections} connections, ${sample.length}-byte values`,
    );
    result.floor = await runFloor(nats, n, connections, sample.length, progress, budget);

    phaseName = 'starting the hub';
    const git = await startGit();
    cleanup.add('git server', () => git.stop());
    const repo = await git.createRepo('fleet', {
      'apps/config.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fleet\ndata:\n  v: "1"\n',
      'apps-v2/config.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fleet\ndata:\n  v: "2"\n',
    });
    const hub = await startHubProcess({ natsUrl: nats.url, dir });
    cleanup.add('hub', () => hub.stop());
    const api = hub.client;
    await api.tenants.createTenant({ tenant: { name: TENANT, namespaces: [TENANT] } });
    await api.repos.createRepo({ repo: { tenant: TENANT, name: REPO, url: repo.url, branch: 'main' } });

    // registration through the API, bounded
    phaseName = 'registration';
    const names = Array.from({ length: n }, (_, i) => clusterName(i));
    const probe = await connect({ servers: [nats.url], name: 'bench-probe' });
    cleanup.add('probe connection', () => probe.close());
    const jsm = await jetstreamManager(probe);
    const keysOnBus = async () => {
      try {
        return (await jsm.streams.info(`KV_${DESIRED_BUCKET}`)).state.messages;
      } catch {
        return 0;
      }
    };
    const started = Date.now();
    const regWindow = new ProcWindow(hub.proc.pid!);
    let t = performance.now();
    await forEachLimit(
      names,
      REGISTER_CONCURRENCY,
      async (name) => void (await api.clusters.createCluster({ cluster: { name, labels: LABELS } })),
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
    result.registration = {
      ms: regMs,
      perSecond: Math.round(n / (regMs / 1000)),
      publishedMs,
      hubRssMiB: reg?.rssMiB,
      hubCpuMs: reg?.cpuMs,
    };
    progress.say(
      `registered ${fmtInt(n)} clusters in ${fmtMs(regMs)} (${fmtInt(result.registration.perSecond)}/s), all keys on the bus after ${fmtMs(publishedMs)}; hub RSS ${fmtMiB(reg?.rssMiB)}`,
    );

    // N watchers, a few connections
    phaseName = 'starting watchers';
    const conns = await Promise.all(
      Array.from({ length: connections }, (_, i) => connectAgents(nats.url, `bench-agents-${i}`)),
    );
    cleanup.add('watcher connections', () => Promise.all(conns.map((c) => c.close())));
    const errors = new ErrorTally();
    let phase: Phase | undefined;
    let up = 0;
    const watchers: TimedWatcher[] = names.map((name, i) => {
      let first = true;
      return new TimedWatcher(conns[i % connections], name, {
        onDesired: (set) => {
          if (first) {
            first = false;
            up++;
          }
          const p = phase;
          if (p && Number.isNaN(p.times[i]) && set.assignments.some((a) => a.path === p.path)) {
            p.times[i] = performance.now() - p.t0;
            p.remaining--;
          }
        },
        onError: (err) => errors.add(err),
      });
    });
    cleanup.add('watchers', () => watchers.forEach((w) => w.stop()));
    const pids = () => ({ bench: process.pid, hub: hub.proc.pid, 'nats-server': findPid(nats.dir) });
    let cpu = new CpuWindow(pids());
    t = performance.now();
    for (const w of watchers) w.start();
    await waitUntil('watchers up', () => up === n, {
      timeoutMs: 300_000,
      budget,
      progress,
      describe: () => `${fmtInt(up)}/${fmtInt(n)} watchers read their key`,
    });
    result.watchersUpMs = performance.now() - t;
    result.cpu.watchersUp = cpu.end();
    progress.say(`${fmtInt(n)} watchers up in ${fmtMs(result.watchersUpMs)}`);

    const runPhase = async (label: string, path: string, call: () => Promise<unknown>) => {
      const p: Phase = { path, t0: performance.now(), times: new Float64Array(n).fill(NaN), remaining: n };
      phase = p;
      await call();
      const apiMs = performance.now() - p.t0;
      await waitUntil(label, () => p.remaining === 0, {
        timeoutMs: Math.max(120_000, Math.min(budget.remainingMs, 900_000)),
        budget,
        progress,
        describe: () => `${fmtInt(n - p.remaining)}/${fmtInt(n)} watchers have it`,
      });
      phase = undefined;
      return { apiMs, dist: distribution(p.times), missing: p.remaining };
    };

    // the first desired set with the assignment
    phaseName = 'first desired set';
    const first = await runPhase('first desired set', 'apps', () =>
      api.assignments.createAssignment({
        assignment: { tenant: TENANT, name: ASSIGNMENT, repo: REPO, path: 'apps', selector: LABELS },
      }),
    );
    result.firstDesired = first.dist;
    progress.say(`CreateAssignment reached all ${fmtInt(n)} in ${fmtMs(first.dist.max)}`);

    // the measured change
    phaseName = 'assignment change';
    const changeWindow = new ProcWindow(hub.proc.pid!);
    cpu = new CpuWindow(pids());
    const change = await runPhase('assignment change', 'apps-v2', () =>
      api.assignments.updateAssignment({
        assignment: { tenant: TENANT, name: ASSIGNMENT, repo: REPO, path: 'apps-v2', selector: LABELS },
      }),
    );
    const hubUse = changeWindow.end();
    result.cpu.change = cpu.end();
    result.change = {
      apiMs: change.apiMs,
      fanout: change.dist,
      missing: change.missing,
      hubCpuMs: hubUse?.cpuMs,
      hubPeakRssMiB: hubUse?.peakRssMiB,
      hubRssMiB: hubUse?.rssMiB,
    };
    progress.say(
      `UpdateAssignment → ${fmtInt(n)} watchers: p50 ${fmtMs(change.dist.p50)} p99 ${fmtMs(change.dist.p99)} max ${fmtMs(change.dist.max)} (API call ${fmtMs(change.apiMs)}); hub peak RSS ${fmtMiB(hubUse?.peakRssMiB)}; CPU ${fmtCpu(result.cpu.change)}`,
    );
    result.watcherErrorsBeforeReconnect = { ...errors.byKind };

    // reconnect storm: restart nats-server; every watcher must read its key again
    phaseName = 'reconnect storm';
    const errorsBefore = errors.total;
    const byKindBefore = { ...errors.byKind };
    const restartT0 = performance.now();
    await nats.restart();
    const serverUp = performance.now();
    cpu = new CpuWindow(pids());
    const reRead = () => watchers.filter((w) => w.lastFetchAt > restartT0).length;
    let reReadCount = 0;
    await waitUntil(
      'reconnect storm',
      () => {
        reReadCount = reRead();
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
    result.cpu.reconnect = cpu.end();
    let lastReRead = restartT0;
    for (const w of watchers) if (w.lastFetchAt > lastReRead) lastReRead = w.lastFetchAt;
    const kinds: Record<string, number> = {};
    for (const [k, v] of Object.entries(errors.byKind))
      if (v - (byKindBefore[k] ?? 0) > 0) kinds[k] = v - (byKindBefore[k] ?? 0);
    result.reconnect = {
      restartMs: serverUp - restartT0,
      allReReadFromRestartMs: lastReRead - restartT0,
      allReReadFromServerUpMs: lastReRead - serverUp,
      errors: kinds,
      errorTotal: errors.total - errorsBefore,
      missing: n - reRead(),
    };
    progress.say(
      `reconnect storm: server back after ${fmtMs(serverUp - restartT0)}, all ${fmtInt(n)} re-read ${fmtMs(lastReRead - serverUp)} later, ${errors.total - errorsBefore} errors`,
    );
    result.benchRssMiB = readProc(process.pid)?.rssMiB;
  } catch (err) {
    result.stoppedAt = phaseName;
    result.error = err instanceof BudgetExceeded ? err.message : ((err as Error).stack ?? String(err));
    progress.say(`stopped during ${phaseName}: ${(err as Error).message}`);
  } finally {
    progress.say('stopping servers');
    await cleanup.run(progress);
  }
  return result;
}

function rowsFor(r: SizeResult): ResultRow[] {
  const size = `N = ${fmtInt(r.n)}`;
  const floorName = 'raw NATS floor';
  const rows: ResultRow[] = [];
  const goalApplies = r.n >= 10_000;
  if (r.floor && r.watchersUpMs !== undefined) {
    rows.push({
      size,
      metric: 'watchers up (all read their key)',
      gitfleet: fmtMs(r.watchersUpMs),
      peerName: floorName,
      peer: fmtMs(r.floor.upMs),
      ratio: ratio(r.watchersUpMs, r.floor.upMs),
      goal: '',
    });
  }
  if (r.change && r.floor) {
    const f = r.floor.fanout;
    const g = r.change.fanout;
    rows.push(
      {
        size,
        metric: 'fan-out: first watcher has it',
        gitfleet: fmtMs(g.min),
        peerName: floorName,
        peer: fmtMs(f.min),
        goal: '',
      },
      {
        size,
        metric: 'fan-out p50 (UpdateAssignment → watcher)',
        gitfleet: fmtMs(g.p50),
        peerName: floorName,
        peer: fmtMs(f.p50),
        ratio: ratio(g.p50, f.p50),
        goal: '',
      },
      {
        size,
        metric: 'fan-out p99',
        gitfleet: fmtMs(g.p99),
        peerName: floorName,
        peer: fmtMs(f.p99),
        ratio: ratio(g.p99, f.p99),
        goal: goalApplies ? `≤ ${GOAL_RATIO}× floor` : `(≤ ${GOAL_RATIO}× from 10,000)`,
        met: goalApplies
          ? (ratio(g.p99, f.p99) ?? Infinity) <= GOAL_RATIO && r.change.missing === 0
          : undefined,
      },
      {
        size,
        metric: 'fan-out max',
        gitfleet: fmtMs(g.max),
        peerName: floorName,
        peer: fmtMs(f.max),
        ratio: ratio(g.max, f.max),
        goal: '',
      },
      {
        size,
        metric: 'hub CPU / peak RSS during the change',
        gitfleet: `${fmtMs(r.change.hubCpuMs)} / ${fmtMiB(r.change.hubPeakRssMiB)}`,
        peerName: '-',
        peer: '',
        goal: '',
      },
    );
  }
  if (r.registration) {
    rows.push({
      size,
      metric: `registration (CreateCluster, ${REGISTER_CONCURRENCY} in flight)`,
      gitfleet: `${fmtMs(r.registration.ms)} (${fmtInt(r.registration.perSecond)}/s)`,
      peerName: '-',
      peer: '',
      goal: '',
    });
  }
  if (r.reconnect) {
    rows.push({
      size,
      metric: 'reconnect storm: all re-read after server up',
      gitfleet: `${fmtMs(r.reconnect.allReReadFromServerUpMs)}, ${fmtInt(r.reconnect.errorTotal)} errors`,
      peerName: '-',
      peer: '',
      goal: 'no timeouts',
      met: (r.reconnect.errors.timeout ?? 0) === 0 && r.reconnect.missing === 0,
    });
  }
  if (r.stoppedAt) {
    rows.push({
      size,
      metric: `did not finish: stopped during ${r.stoppedAt}`,
      gitfleet: (r.error ?? '').split('\n')[0].slice(0, 120),
      peerName: '-',
      peer: '',
      goal: goalApplies ? `≤ ${GOAL_RATIO}× floor` : '',
      met: goalApplies && !r.change ? false : undefined,
    });
  }
  return rows;
}

export const fanout: Scenario = {
  name: 'fanout',
  title: 'Desired-set fan-out from the hub to N agents (vs. the raw NATS floor)',
  sizes: 'N = 1,000, 10,000, 100,000 agents (quick: 1,000)',
  async run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
    const sizes = ctx.size ? [ctx.size] : ctx.quick ? [1000] : [1000, 10_000, 100_000];
    const rows: ResultRow[] = [];
    const notes: string[] = [];
    const results: SizeResult[] = [];
    for (const n of sizes) {
      const minutes = n >= 100_000 ? (ctx.budgetMinutes ?? 20) : Math.max(10, ctx.budgetMinutes ?? 10);
      const r = await runSize(n, ctx, new Budget(minutes * 60_000));
      results.push(r);
      rows.push(...rowsFor(r));
      if (r.stoppedAt) {
        notes.push(
          `N = ${fmtInt(n)} did not finish within its ${minutes}-minute budget: stopped during ${r.stoppedAt} (${(r.error ?? '').split('\n')[0]}).` +
            (r.registration
              ? ` Registration of ${fmtInt(n)} clusters took ${fmtMs(r.registration.ms)}.`
              : ''),
        );
      }
    }
    notes.push(
      `Watchers share ${WATCHERS_PER_CONNECTION.toLocaleString('en-US')} per NATS connection (at least 2 connections); the hub runs as a \`gitfleet hub\` process with SQLite. Fan-out is timed from the UpdateAssignment call to each watcher's onDesired; the floor from its first put.`,
    );
    return { rows, notes, details: { sizes: results.map(roundedResult) } };
  },
};

function roundedResult(r: SizeResult): unknown {
  return JSON.parse(
    JSON.stringify(
      {
        ...r,
        floor: r.floor && { ...r.floor, fanout: rounded(r.floor.fanout) },
        firstDesired: r.firstDesired && rounded(r.firstDesired),
        change: r.change && { ...r.change, fanout: rounded(r.change.fanout) },
      },
      (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 10) / 10 : v),
    ),
  );
}
