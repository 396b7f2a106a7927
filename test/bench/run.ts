// `npm run bench`: gitfleet's benchmarks on the real test environment (test/env). Each scenario
// starts its own servers, prints a table — gitfleet next to its peer or limit, the ratio, the goal
// and whether it was met — and writes test/bench/results/<scenario>.json with the machine.
//
//   npm run bench                          every scenario at full size (committed results)
//   npm run bench -- --quick               every scenario in under a minute each (not committed)
//   npm run bench -- --only fanout,apply   some scenarios
//   npm run bench -- --only fanout --size 10000 [--budget 30]   one size (minutes of budget)
//   npm run bench -- --markdown            the README table from the committed results
import { Progress } from './lib/progress.js';
import {
  describeMachine,
  describeSource,
  machineLine,
  markdownTable,
  readReport,
  textTable,
  writeReport,
  type ScenarioReport,
} from './lib/report.js';
import type { Scenario } from './lib/scenario.js';
import { apply } from './scenarios/apply.scenario.js';
import { assignments } from './scenarios/assignments.scenario.js';
import { cli } from './scenarios/cli.scenario.js';
import { commit } from './scenarios/commit.scenario.js';
import { fanout } from './scenarios/fanout.scenario.js';
import { render } from './scenarios/render.scenario.js';
import { steady } from './scenarios/steady.scenario.js';
import { drift } from './scenarios/drift.scenario.js';
import { rollout } from './scenarios/rollout.scenario.js';

const SCENARIOS: Scenario[] = [fanout, apply, commit, assignments, steady, drift, cli, render, rollout];

interface Args {
  quick: boolean;
  only?: string[];
  size?: number;
  budgetMinutes?: number;
  markdown: boolean;
  help: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, markdown: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const number = (): number => {
      const v = Number(value());
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number`);
      return v;
    };
    if (a === '--quick') args.quick = true;
    else if (a === '--markdown') args.markdown = true;
    else if (a === '--help' || a === '-h') args.help = true;
    else if (a.startsWith('--only'))
      args.only = value()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (a.startsWith('--size')) args.size = Math.round(number());
    else if (a.startsWith('--budget')) args.budgetMinutes = number();
    else throw new Error(`unknown argument ${JSON.stringify(a)} (try --help)`);
  }
  const known = new Set(SCENARIOS.map((s) => s.name));
  for (const name of args.only ?? []) {
    if (!known.has(name))
      throw new Error(`unknown scenario ${JSON.stringify(name)}: one of ${[...known].join(', ')}`);
  }
  return args;
}

function usage(): string {
  return [
    'usage: npm run bench -- [--quick] [--only a,b] [--size N] [--budget MINUTES] [--markdown]',
    '',
    'scenarios:',
    ...SCENARIOS.map((s) => `  ${s.name.padEnd(12)} ${s.title}\n  ${''.padEnd(12)} ${s.sizes}`),
  ].join('\n');
}

function printReport(r: ScenarioReport): void {
  const out = process.stdout;
  out.write(`\n== ${r.scenario}: ${r.title} (${r.mode}, ${(r.durationMs / 1000).toFixed(0)} s)\n`);
  out.write(`machine: ${machineLine(r.machine)}\n`);
  out.write(
    `code: ${r.source.commit.slice(0, 12)}${r.source.dirty.length ? ` + uncommitted changes to ${r.source.dirty.join(', ')}` : ''}\n\n`,
  );
  if (r.rows.length) out.write(`${textTable(r.rows)}\n`);
  for (const n of r.notes) out.write(`\nnote: ${n}\n`);
  if (r.error) out.write(`\nERROR: ${r.error}\n`);
}

function markdown(selected: Scenario[]): string {
  const parts: string[] = [];
  for (const s of selected) {
    const r = readReport(s.name);
    if (!r) {
      parts.push(`### ${s.name}\n\n(no committed results: run \`npm run bench -- --only ${s.name}\`)\n`);
      continue;
    }
    parts.push(
      `### ${s.name}: ${r.title}\n\n${markdownTable(r.rows)}\n` +
        (r.notes.length ? `\n${r.notes.map((n) => `- ${n}`).join('\n')}\n` : '') +
        `\n<sub>${machineLine(r.machine)}; commit ${r.source.commit.slice(0, 12)}; ${(r.durationMs / 60_000).toFixed(1)} min</sub>\n`,
    );
  }
  return parts.join('\n');
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const selected = args.only ? SCENARIOS.filter((s) => args.only!.includes(s.name)) : SCENARIOS;
  if (args.markdown) {
    process.stdout.write(markdown(selected));
    return 0;
  }
  const mode: ScenarioReport['mode'] = args.size ? 'custom' : args.quick ? 'quick' : 'full';
  const reports: ScenarioReport[] = [];
  for (const s of selected) {
    const progress = new Progress(`[${s.name}]`);
    progress.say(`${s.title} — ${mode === 'full' ? s.sizes.replace(/ \(quick:[^)]*\)/, '') : mode}`);
    const machine = describeMachine();
    const source = describeSource();
    const started = Date.now();
    const header = {
      scenario: s.name,
      title: s.title,
      mode,
      machine,
      source,
      startedAt: new Date(started).toISOString(),
    };
    let report: ScenarioReport;
    try {
      const outcome = await s.run({
        quick: args.quick,
        size: args.size,
        budgetMinutes: args.budgetMinutes,
        progress,
      });
      report = { ...header, durationMs: Date.now() - started, ...outcome };
    } catch (err) {
      report = {
        ...header,
        durationMs: Date.now() - started,
        rows: [],
        details: {},
        notes: [],
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      };
    }
    progress.clear();
    const path = writeReport(report);
    printReport(report);
    process.stdout.write(`\nresults: ${path}\n`);
    reports.push(report);
  }
  const missed = reports.flatMap((r) =>
    r.rows.filter((row) => row.met === false).map((row) => `${r.scenario}: ${row.size} ${row.metric}`),
  );
  const failed = reports.filter((r) => r.error).map((r) => r.scenario);
  process.stdout.write(
    `\n== summary: ${reports.length} scenario(s); goals missed: ${missed.length ? `\n  ${missed.join('\n  ')}` : 'none'}${failed.length ? `\nscenarios that failed: ${failed.join(', ')}` : ''}\n`,
  );
  return failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
