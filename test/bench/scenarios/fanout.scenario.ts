// fanout: one assignment change reaching N agents. N simulated agents are N DesiredSetWatchers
// from agent/ (the agent's own watcher: a core subscription to its key's subject plus direct gets
// through a shared, bounded pool) sharing a few NATS connections in this process; the hub is a
// real `gitfleet hub` process with SQLite on a real nats-server. Peer: the raw NATS floor — the
// same N keys put by a bare KV client and observed by bare direct-get + subscription watchers.
// The phases live in fanout/: floor.ts, watchers.ts (the simulated agents), phases.ts, rows.ts.
import { startNats } from '../../env/index.js';
import { readProc } from '../lib/proc.js';
import { fmtInt, fmtMs, type ResultRow } from '../lib/report.js';
import {
  tempDir,
  withCleanup,
  type Scenario,
  type ScenarioContext,
  type ScenarioOutcome,
} from '../lib/scenario.js';
import { Budget, BudgetExceeded } from '../lib/wait.js';
import { WATCHERS_PER_CONNECTION, clusterName, type SizeResult } from './fanout/common.js';
import {
  assignmentChange,
  firstDesired,
  measureFloor,
  reconnectStorm,
  register,
  startHub,
  startWatchers,
  type SizeRun,
} from './fanout/phases.js';
import { roundedResult, rowsFor } from './fanout/rows.js';

/** One size, phase by phase; a phase that fails or runs out of budget ends the size where it stopped. */
async function runSize(n: number, ctx: ScenarioContext, budget: Budget): Promise<SizeResult> {
  const progress = ctx.progress.child(` N=${fmtInt(n)}`);
  const connections = Math.max(2, Math.ceil(n / WATCHERS_PER_CONNECTION));
  const result: SizeResult = { n, connections, cpu: {} };
  let phaseName = 'start';
  const phase = <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    phaseName = name;
    return fn();
  };
  await withCleanup(progress, async (cleanup) => {
    try {
      const dir = tempDir(cleanup, 'gitfleet-bench-fanout-');
      const nats = await phase('starting nats-server', startNats);
      cleanup.add('nats-server', () => nats.destroy());
      const names = Array.from({ length: n }, (_, i) => clusterName(i));
      const run: SizeRun = { n, connections, names, dir, nats, progress, budget, cleanup, result };
      await phase('raw NATS floor', () => measureFloor(run));
      const hub = await phase('starting the hub', () => startHub(run));
      await phase('registration', () => register(run, hub));
      const agents = await phase('starting watchers', () => startWatchers(run, hub));
      await phase('first desired set', () => firstDesired(run, hub, agents));
      await phase('assignment change', () => assignmentChange(run, hub, agents));
      await phase('reconnect storm', () => reconnectStorm(run, hub, agents));
      result.benchRssMiB = readProc(process.pid)?.rssMiB;
    } catch (err) {
      result.stoppedAt = phaseName;
      result.error = err instanceof BudgetExceeded ? err.message : ((err as Error).stack ?? String(err));
      progress.say(`stopped during ${phaseName}: ${(err as Error).message}`);
    }
  });
  return result;
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
