// Hub and agent as real `gitfleet` child processes (so their memory and CPU are measured in
// isolation), and their resource use read from /proc: RSS, peak RSS (VmHWM, resettable through
// clear_refs) and CPU time (utime + stime).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { spawnServer, type ServerProcess } from '../../env/process.js';
import { freePort } from '../../env/index.js';
import { createHubClient, type HubClient } from '../../../cli/client/hub-client.js';
import { newToken } from '../../../hub/auth/token.js';
import { DEFAULT_TENANT_CLUSTER_ROLES } from '../../../proto/index.js';
import { REPO_ROOT } from './report.js';
import { WaitAborted, waitUntilAsync } from './wait.js';

export const CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcStats {
  rssMiB: number;
  /** Peak RSS since start or the last resetPeak(). */
  peakMiB: number;
  /** User + system CPU time so far. */
  cpuMs: number;
  /** CPU time of its children that exited and were waited for (e.g. kubectl runs). */
  childCpuMs: number;
}

export function readProc(pid: number): ProcStats | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]); // fields 14 and 15: utime, stime
    const childTicks = Number(rest[13]) + Number(rest[14]); // fields 16 and 17: cutime, cstime
    return {
      rssMiB: kb('VmRSS') / 1024,
      peakMiB: kb('VmHWM') / 1024,
      cpuMs: (ticks * 1000) / CLK_TCK,
      childCpuMs: (childTicks * 1000) / CLK_TCK,
    };
  } catch {
    return undefined;
  }
}

/** Resets the process's peak RSS (VmHWM) to its current RSS; false when the kernel refuses. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Resource use of a process over a window: CPU time spent and peak RSS within it. */
export class ProcWindow {
  private readonly start: ProcStats | undefined;
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    intervalMs = 100,
  ) {
    resetPeak(pid);
    this.start = readProc(pid);
    this.peak = this.start?.rssMiB ?? 0;
    this.timer = setInterval(() => {
      const s = readProc(pid);
      if (s && s.rssMiB > this.peak) this.peak = s.rssMiB;
    }, intervalMs);
    this.timer.unref();
  }

  end(): { cpuMs: number; peakRssMiB: number; rssMiB: number } | undefined {
    clearInterval(this.timer);
    const end = readProc(this.pid);
    if (!end || !this.start) return undefined;
    return {
      cpuMs: end.cpuMs - this.start.cpuMs,
      peakRssMiB: Math.max(this.peak, end.peakMiB, end.rssMiB),
      rssMiB: end.rssMiB,
    };
  }
}

/** The pid of a process whose command line contains `needle` (e.g. a server's temp dir). */
export function findPid(needle: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(needle)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** CPU time of several processes over one window. */
export class CpuWindow {
  private readonly start: Map<string, number>;

  constructor(private readonly pids: Record<string, number | undefined>) {
    this.start = this.sample();
  }

  private sample(): Map<string, number> {
    const m = new Map<string, number>();
    for (const [name, pid] of Object.entries(this.pids)) {
      const s = pid ? readProc(pid) : undefined;
      if (s) m.set(name, s.cpuMs);
    }
    // commands the bench ran and waited for (kubectl, git) meanwhile
    m.set('commands', selfStats().childCpuMs);
    return m;
  }

  /** CPU ms per process name since the window started. */
  end(): Record<string, number> {
    const now = this.sample();
    const out: Record<string, number> = {};
    for (const [name, v] of now) {
      const s = this.start.get(name);
      if (s !== undefined && (name !== 'commands' || v > s)) out[name] = Math.round(v - s);
    }
    return out;
  }
}

/** The bench process itself (for in-process parts). */
export function selfStats(): ProcStats {
  return (
    readProc(process.pid) ?? {
      rssMiB: process.memoryUsage().rss / 2 ** 20,
      peakMiB: NaN,
      cpuMs: NaN,
      childCpuMs: NaN,
    }
  );
}

export interface HubProcess {
  address: string;
  proc: ServerProcess;
  /** A client with the admin token. */
  client: HubClient;
  /** The admin token (for CLI runs: GITFLEET_TOKEN). */
  token: string;
  stop(): Promise<void>;
}

/** `gitfleet hub` with a SQLite store in `dir`; resolves when its API answers. */
export async function startHubProcess(opts: {
  natsUrl: string;
  dir: string;
  logLevel?: string;
  /** ClusterRoles tenants may be bound to besides the defaults (--tenant-cluster-role). */
  tenantClusterRoles?: string[];
  deadlineMs?: number;
}): Promise<HubProcess> {
  const address = `127.0.0.1:${await freePort()}`;
  // the first admin token, given to the hub as its --admin-token-file
  const token = newToken().secret;
  const tokenFile = join(opts.dir, 'admin.token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const proc = spawnServer(
    'gitfleet-hub',
    process.execPath,
    // BENCH_HUB_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the hub of a run
    [
      ...(process.env.BENCH_HUB_NODE_ARGS ?? '').split(' ').filter(Boolean),
      CLI,
      'hub',
      '--listen',
      address,
      '--nats',
      opts.natsUrl,
      '--db',
      join(opts.dir, 'hub.db'),
      '--admin-token-file',
      tokenFile,
      ...roleFlags(opts.tenantClusterRoles),
    ],
    join(opts.dir, 'hub.log'),
    { ...process.env, GITFLEET_LOG_LEVEL: opts.logLevel ?? 'info' },
  );
  const client = createHubClient(address, { deadlineMs: opts.deadlineMs ?? 120_000, token });
  const stop = async () => {
    client.close();
    await proc.stop(15_000);
  };
  try {
    await waitUntilAsync(
      'hub API',
      async () => {
        if (!proc.alive()) throw new WaitAborted(`gitfleet hub exited:\n${proc.tail()}`);
        return client.tenants.listTenants({}, { deadline: Date.now() + 2000 }).then(
          () => true,
          () => false,
        );
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, proc, client, token, stop };
}

export interface AgentProcess {
  proc: ServerProcess;
  stop(): Promise<void>;
}

/** `gitfleet agent` for one cluster against a kubeconfig. */
export function startAgentProcess(opts: {
  cluster: string;
  natsUrl: string;
  kubeconfigPath: string;
  dir: string;
  resync?: string;
  logLevel?: string;
  tenantClusterRoles?: string[];
}): AgentProcess {
  const proc = spawnServer(
    `gitfleet-agent-${opts.cluster}`,
    process.execPath,
    [
      // BENCH_AGENT_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the agents of a run
      ...(process.env.BENCH_AGENT_NODE_ARGS ?? '').split(' ').filter(Boolean),
      CLI,
      'agent',
      '--cluster',
      opts.cluster,
      '--nats',
      opts.natsUrl,
      '--kubeconfig',
      opts.kubeconfigPath,
      '--resync',
      opts.resync ?? '10m',
      '--cache-dir',
      join(opts.dir, `agent-cache-${opts.cluster}`),
      // latency is measured: no random delay before fetches
      '--fetch-jitter',
      '0',
      ...roleFlags(opts.tenantClusterRoles),
    ],
    join(opts.dir, `agent-${opts.cluster}.log`),
    { ...process.env, GITFLEET_LOG_LEVEL: opts.logLevel ?? 'info' },
  );
  return { proc, stop: () => proc.stop(15_000) };
}

/** --tenant-cluster-role flags: the defaults (admin, edit, view) plus `extra`. */
function roleFlags(extra: string[] | undefined): string[] {
  if (!extra?.length) return [];
  return [...DEFAULT_TENANT_CLUSTER_ROLES, ...extra].flatMap((r) => ['--tenant-cluster-role', r]);
}
