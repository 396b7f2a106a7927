// Runs a pinned render tool (kubectl kustomize, helm template) as a bounded child process: the
// one place that spawns them. A run is stopped (SIGKILL, the whole process group) when it takes
// longer than its timeout or writes more than its output cap to stdout, so a hostile repository
// cannot hold the agent's CPU, memory or a reconcile slot. The environment is built here too: no
// inherited variables (credentials, KUBECONFIG, proxies), an empty PATH (kustomize cannot run git
// for a remote base), proxies that lead nowhere and a temporary HOME, removed after the run.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Default time one render may take (a kustomize or helm run of a large repository takes seconds). */
export const RENDER_TIMEOUT_MS = 120_000;
/** What is kept of a failed run's stderr (its last bytes: the error is at the end). */
const STDERR_KEEP = 16 * 1024;

export type RenderToolFailure = 'spawn' | 'exit' | 'timeout' | 'output';

export class RenderToolError extends Error {
  override readonly name = 'RenderToolError';
  constructor(
    readonly failure: RenderToolFailure,
    message: string,
    /** stderr of the run (its last STDERR_KEEP bytes), for 'exit'. */
    readonly stderr = '',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface RenderToolRun {
  /** Path of the binary (or a name looked up on the agent's PATH). */
  command: string;
  args: string[];
  cwd: string;
  /** Variables on top of renderToolEnv()'s (which has none of the agent's own). */
  env?: Record<string, string>;
  timeoutMs: number;
  /** Bytes of stdout past which the run is stopped. */
  maxOutputBytes: number;
}

/** Where a run keeps its temporary HOME; given to `use`, removed afterwards. */
export async function withScratchDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'gitfleet-render-'));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The whole environment of a render tool: nothing of the agent's (its KUBECONFIG, tokens, proxy
 * settings), HOME in the run's scratch directory, no PATH, and HTTP(S) proxies on a closed port so
 * that a download the checks before the run missed fails instead of reaching the network.
 */
export function renderToolEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const nowhere = 'http://127.0.0.1:9';
  return {
    HOME: home,
    PATH: '',
    LANG: 'C',
    LC_ALL: 'C',
    TMPDIR: home,
    KUBECONFIG: join(home, 'no-kubeconfig'),
    HTTP_PROXY: nowhere,
    HTTPS_PROXY: nowhere,
    http_proxy: nowhere,
    https_proxy: nowhere,
    ALL_PROXY: nowhere,
    NO_PROXY: '',
    no_proxy: '',
    ...extra,
  };
}

/**
 * The binary a bare name (`kubectl`) means on the agent's own PATH: the child's environment has
 * none, and spawn looks a name up on the child's PATH. A path is taken as given.
 */
export function resolveCommand(command: string, path = process.env.PATH ?? ''): string {
  if (command.includes('/')) return command;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return join(dir, command);
    } catch {
      // not in this directory
    }
  }
  return command;
}

/** Runs the tool; resolves with its stdout (UTF-8) when it exits 0, else a RenderToolError. */
export function runRenderTool(run: RenderToolRun): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(resolveCommand(run.command), run.args, {
      cwd: run.cwd,
      env: { ...run.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // its own process group: a kill reaches anything it started
      detached: true,
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = Buffer.alloc(0);
    let stopped: RenderToolError | undefined;
    const stop = (e: RenderToolError) => {
      if (stopped) return;
      stopped = e;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(
      () => stop(new RenderToolError('timeout', `did not finish within ${run.timeoutMs} ms`)),
      run.timeoutMs,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      if (stopped) return;
      outBytes += chunk.length;
      if (outBytes > run.maxOutputBytes) {
        out.length = 0;
        stop(new RenderToolError('output', `wrote more than ${run.maxOutputBytes} bytes`));
        return;
      }
      out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err = Buffer.concat([err, chunk]);
      if (err.length > STDERR_KEEP) err = err.subarray(err.length - STDERR_KEEP);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = e.code === 'ENOENT' ? 'not found' : e.code === 'EACCES' ? 'not executable' : e.message;
      reject(new RenderToolError('spawn', `cannot run ${run.command}: ${why}`, '', { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (stopped) return reject(stopped);
      const stderr = err.toString('utf8');
      if (code === 0) return resolve(Buffer.concat(out).toString('utf8'));
      reject(
        new RenderToolError(
          'exit',
          signal ? `was killed by ${signal}` : `exited with status ${code}`,
          stderr,
        ),
      );
    });
  });
}

/**
 * One line of a tool's stderr for a status message: the checkout's own path (the agent's disk
 * layout) removed, `Error: ` prefixes dropped, lines joined, at most `max` characters.
 */
export function toolMessage(stderr: string, root: string, max = 600): string {
  let text = stderr
    .split(root + '/')
    .join('')
    .split(root)
    .join('.')
    .split('\n')
    .map((l) => l.trim().replace(/^(error|Error): /, ''))
    // helm's advice to rerun it with --debug is no use in a status
    .filter((l) => l && !/^Use --debug flag/.test(l))
    .join('; ');
  if (text.length > max) text = `${text.slice(0, max)}…`;
  return text;
}
