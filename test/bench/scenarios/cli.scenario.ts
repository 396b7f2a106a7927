// cli: how long the `gitfleet` command takes to start, next to a bare `node -e 0` in the same run.
// Against a real `gitfleet hub` process with a few tenants: `gitfleet --version` (no hub call) and
// `gitfleet tenant list` (one gRPC call). Wall time from spawn to exit, the commands interleaved
// round by round so that the machine's load weighs on all three alike. Goal: each ≤ 6× node.
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { startNats } from '../../env/index.js';
import { CLI, startHubProcess } from '../lib/proc.js';
import { fmtMs, ratio, type ResultRow } from '../lib/report.js';
import {
  tempDir,
  withCleanup,
  type Scenario,
  type ScenarioContext,
  type ScenarioOutcome,
} from '../lib/scenario.js';
import { distribution, rounded, type Distribution } from '../lib/stats.js';

const execFileAsync = promisify(execFile);

const TENANTS = 5;
const GOAL_RATIO = 6;
const NODE_PEER = 'node -e 0';

interface Command {
  name: string;
  args: string[];
}

/** One run of `node <args>`; its wall time from spawn to exit, and what it printed. */
async function timeRun(args: string[]): Promise<{ ms: number; stdout: string }> {
  const t = performance.now();
  const { stdout } = await execFileAsync(process.execPath, args);
  return { ms: performance.now() - t, stdout };
}

export const cli: Scenario = {
  name: 'cli',
  title: 'CLI start-up: gitfleet --version and tenant list against a hub (vs. node -e 0)',
  sizes: '15 runs of each command (quick: 5)',
  async run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
    const runs = ctx.size ?? (ctx.quick ? 5 : 15);
    const progress = ctx.progress;
    return withCleanup(progress, async (cleanup) => {
      const dir = tempDir(cleanup, 'gitfleet-bench-cli-');
      progress.say('starting nats-server and a gitfleet hub process');
      const nats = await startNats();
      cleanup.add('nats-server', () => nats.destroy());
      const hub = await startHubProcess({ natsUrl: nats.url, dir });
      cleanup.add('hub', () => hub.stop());
      const tenants = Array.from({ length: TENANTS }, (_, i) => `team-${i + 1}`);
      for (const name of tenants)
        await hub.client.tenants.createTenant({ tenant: { name, namespaces: [name] } });

      const commands: Command[] = [
        { name: NODE_PEER, args: ['-e', '0'] },
        { name: 'gitfleet --version', args: [CLI, '--version'] },
        {
          name: 'gitfleet tenant list',
          args: [CLI, '--hub', hub.address, '--token', hub.token, 'tenant', 'list'],
        },
      ];
      // one run of each first, not counted: the files are in the page cache for every measured run
      const listed = (await timeRun(commands[2].args)).stdout;
      const missing = tenants.filter((t) => !listed.includes(t));
      if (missing.length)
        throw new Error(`gitfleet tenant list did not list ${missing.join(', ')}:\n${listed}`);
      for (const c of commands.slice(0, 2)) await timeRun(c.args);

      const samples = new Map<string, number[]>(commands.map((c) => [c.name, []]));
      const started = Date.now();
      for (let round = 0; round < runs; round++) {
        // a different command goes first each round, so none is always the one after a pause
        for (let k = 0; k < commands.length; k++) {
          const c = commands[(round + k) % commands.length];
          samples.get(c.name)!.push((await timeRun(c.args)).ms);
        }
        progress.count('rounds', round + 1, runs, started);
      }

      const dist = new Map<string, Distribution>(
        commands.map((c) => [c.name, distribution(samples.get(c.name)!)]),
      );
      const node = dist.get(NODE_PEER)!;
      const size = `${runs} runs each`;
      const rows: ResultRow[] = commands.slice(1).map((c) => {
        const d = dist.get(c.name)!;
        const r = ratio(d.p50, node.p50);
        return {
          size,
          metric: `\`${c.name}\`: median (p90)`,
          gitfleet: `${fmtMs(d.p50)} (${fmtMs(d.p90)})`,
          peerName: NODE_PEER,
          peer: `${fmtMs(node.p50)} (${fmtMs(node.p90)})`,
          ratio: r,
          goal: `≤ ${GOAL_RATIO}× ${NODE_PEER}`,
          met: r !== undefined && r <= GOAL_RATIO,
        };
      });
      for (const c of commands)
        progress.say(
          `${c.name}: median ${fmtMs(dist.get(c.name)!.p50)}, p90 ${fmtMs(dist.get(c.name)!.p90)}`,
        );
      return {
        rows,
        notes: [
          `Wall time from spawn to exit of each command as a child process of the bench (the built CLI, dist/cli/main.js, on this machine's Node), ${runs} rounds of the three commands interleaved after one uncounted run of each; \`tenant list\` asks a \`gitfleet hub\` process on loopback holding ${TENANTS} tenants. The ratio is of the medians.`,
        ],
        details: {
          runs,
          tenants: TENANTS,
          commands: Object.fromEntries(
            commands.map((c) => [
              c.name,
              {
                args: c.args.map((a) => (a === CLI ? 'dist/cli/main.js' : a)),
                ...rounded(dist.get(c.name)!),
              },
            ]),
          ),
          samplesMs: Object.fromEntries(
            commands.map((c) => [c.name, samples.get(c.name)!.map((v) => Math.round(v * 10) / 10)]),
          ),
        },
      };
    });
  },
};
