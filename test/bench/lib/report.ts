// What every scenario produces: rows for the side-by-side table (gitfleet vs. its peer or limit,
// the ratio, the goal and whether it was met), plus raw details, all written as JSON with the
// machine the numbers came from.
import { cpus, loadavg, release, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ResultRow {
  /** e.g. "N = 10,000" or "1,000 objects" */
  size: string;
  metric: string;
  gitfleet: string;
  /** What gitfleet is compared with ("raw NATS floor", "kubectl apply --server-side", "Flux (published)"). */
  peerName: string;
  peer: string;
  /** gitfleet / peer, when both are numbers. */
  ratio?: number;
  goal: string;
  /** undefined: no goal applies (informational row). */
  met?: boolean;
}

export interface ScenarioReport {
  scenario: string;
  title: string;
  mode: 'full' | 'quick' | 'custom';
  machine: Machine;
  /** The code measured: commit, and uncommitted changes to hub/, agent/ or proto/ (should be none). */
  source: { commit: string; dirty: string[] };
  startedAt: string;
  durationMs: number;
  rows: ResultRow[];
  /** Raw measurements (all durations in ms, memory in MiB). */
  details: Record<string, unknown>;
  /** What happened that a reader of the table must know (budgets hit, errors, caveats). */
  notes: string[];
  /** Set when the scenario failed before finishing. */
  error?: string;
}

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  kernel: string;
  natsServer: string;
  kubectl: string;
  kubeApiserver: string;
  /** 1-minute load average when the scenario started (other work on the machine skews numbers). */
  loadAverage1m: number;
  date: string;
}

function version(cmd: string, args: string[], pattern: RegExp): string {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return pattern.exec(out)?.[1] ?? out.trim().split('\n')[0];
  } catch {
    return 'unknown';
  }
}

let cachedVersions: Pick<Machine, 'natsServer' | 'kubectl'> | undefined;

export function describeMachine(kubeApiserver = '1.20.2'): Machine {
  cachedVersions ??= {
    natsServer: version('nats-server', ['--version'], /v?(\d+\.\d+\.\d+)/),
    kubectl: version('kubectl', ['version', '--client'], /Client Version: v?(\S+)/),
  };
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    ...cachedVersions,
    kubeApiserver,
    loadAverage1m: Math.round(loadavg()[0] * 100) / 100,
    date: new Date().toISOString(),
  };
}

export function describeSource(): ScenarioReport['source'] {
  const git = (args: string[]) =>
    execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    return {
      commit: git(['rev-parse', 'HEAD']).trim(),
      dirty: git(['status', '--porcelain', '--', 'hub', 'agent', 'proto'])
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice(3)),
    };
  } catch {
    return { commit: 'unknown', dirty: [] };
  }
}

export function machineLine(m: Machine): string {
  return `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, nats-server ${m.natsServer}, kube-apiserver ${m.kubeApiserver}, kubectl ${m.kubectl}, load ${m.loadAverage1m} at start, ${m.date.slice(0, 10)}`;
}

/** The checkout's root (the directory of package.json), from the source or the build. */
export const REPO_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

export const RESULTS_DIR = join(REPO_ROOT, 'test', 'bench', 'results');

/** Full-size results are committed (<scenario>.json); quick and custom runs are not (*.tmp.json). */
export function resultPath(report: Pick<ScenarioReport, 'scenario' | 'mode'>): string {
  const suffix = report.mode === 'full' ? '.json' : `.${report.mode}.tmp.json`;
  return join(RESULTS_DIR, `${report.scenario}${suffix}`);
}

export function writeReport(report: ScenarioReport): string {
  const path = resultPath(report);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(report, null, 2) + '\n');
  return path;
}

export function readReport(scenario: string): ScenarioReport | undefined {
  const path = join(RESULTS_DIR, `${scenario}.json`);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as ScenarioReport;
}

// ---- formatting -------------------------------------------------------------------------------

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m}m${String(s).padStart(2, '0')}s`;
}

export function fmtMiB(mib: number | undefined): string {
  return mib === undefined || !Number.isFinite(mib) ? '-' : `${Math.round(mib)} MiB`;
}

export function fmtInt(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? '-' : Math.round(n).toLocaleString('en-US');
}

export function fmtRatio(r: number | undefined): string {
  return r === undefined || !Number.isFinite(r) ? '-' : `${r < 10 ? r.toFixed(2) : Math.round(r)}×`;
}

/** "hub 770 ms, nats-server 170 ms" */
export function fmtCpu(cpu: Record<string, number> | undefined): string {
  return Object.entries(cpu ?? {})
    .map(([k, v]) => `${k} ${fmtMs(v)}`)
    .join(', ');
}

export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0
    ? undefined
    : a / b;
}

function metText(met: boolean | undefined): string {
  return met === undefined ? '' : met ? 'met' : 'MISSED';
}

const HEADERS = ['size', 'metric', 'gitfleet', 'peer / limit', 'peer', 'ratio', 'goal', ''];

function cells(r: ResultRow): string[] {
  return [r.size, r.metric, r.gitfleet, r.peerName, r.peer, fmtRatio(r.ratio), r.goal, metText(r.met)];
}

/** The table as aligned plain text, for the terminal. */
export function textTable(rows: readonly ResultRow[]): string {
  const all = [HEADERS, ...rows.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

/** The table as GitHub Markdown, for the README. */
export function markdownTable(rows: readonly ResultRow[]): string {
  const headers = ['size', 'metric', 'gitfleet', 'peer / limit', 'ratio', 'goal', 'met'];
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const out = [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`];
  for (const r of rows) {
    const peer = r.peer === '-' || r.peer === '' ? r.peerName : `${r.peer} (${r.peerName})`;
    const met = r.met === undefined ? '' : r.met ? 'yes' : '**no**';
    out.push(
      `| ${[r.size, r.metric, r.gitfleet, peer || '-', fmtRatio(r.ratio), r.goal, met].map(esc).join(' | ')} |`,
    );
  }
  return out.join('\n');
}
