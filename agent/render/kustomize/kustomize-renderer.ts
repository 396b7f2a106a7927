// The Kustomize renderer: `kubectl kustomize DIR` with the agent's pinned kubectl (--kubectl).
// Before it runs, every kustomization reachable from the assignment path is read: a remote base or
// resource (a URL, or anything that is not a file or directory of the checkout, which kustomize
// would try as a git URL) is refused, and so is a local one outside the checkout (kustomize's
// load restrictor lets a base climb out of its root: here it would reach other repositories'
// checkouts in the agent's cache); helm inflation (helmCharts) is refused. Kustomize then runs
// with the load restrictor on (LoadRestrictionsRootOnly), no exec or KRM function plugins (no
// --enable-alpha-plugins / --enable-exec), no --enable-helm, no network (renderToolEnv), a timeout
// and the output cap maxRenderedBytes. Its output goes through the same parse as plain manifests.
import { lstat, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { buildError } from '../../errors.js';
import { InputTree } from '../tool/input-tree.js';
import {
  RenderToolError,
  renderToolEnv,
  runRenderTool,
  toolMessage,
  withScratchDir,
} from '../tool/render-tool.js';

/** The names kustomize looks for, in its own order. */
export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const;

/** Fields whose entries are kustomizations (directories) or resource files. */
const RESOURCE_FIELDS = ['resources', 'bases', 'components', 'crds'] as const;
/** Fields that inflate Helm charts (kustomize --enable-helm, off here). */
const HELM_FIELDS = ['helmCharts', 'helmChartInflationGenerator', 'helmGlobals'] as const;
const MAX_KUSTOMIZATION_BYTES = 1024 * 1024;
/** kustomize's remote forms: a scheme (https://, git::, ssh://), scp-like git@, or a known host. */
const REMOTE =
  /^(?:[a-z][a-z0-9+.-]*:\/\/|[a-z][a-z0-9+.-]*::|[^/\s]+@[^/\s]+:|(?:github\.com|gitlab\.com|bitbucket\.org)\/)|\?ref=|\?version=/i;

/** The kustomization file of `dir` (relative name), or undefined. */
export async function kustomizationIn(dir: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILES) {
    if ((await stat(join(dir, name)).catch(() => undefined))?.isFile()) return name;
  }
  return undefined;
}

export interface KustomizePlan {
  /** The assignment path's kustomization file, relative to the checkout. */
  kustomization: string;
  /** Bytes of the files kustomize may read (the render budget's first weight). */
  bytes: number;
}

/**
 * Reads the kustomizations reachable from `dir` and checks what they reference (see the file's
 * comment). Throws a BuildFailed error naming the kustomization file and the entry.
 */
export async function planKustomize(root: string, dir: string, maxFiles: number): Promise<KustomizePlan> {
  const tree = await InputTree.of(root, maxFiles);
  const visited = new Set<string>();
  const visit = async (kdir: string): Promise<string> => {
    const real = await tree.realInside(kdir, tree.shown(kdir));
    const name = await kustomizationIn(kdir);
    const file = `${tree.shown(kdir) === '.' ? '' : `${tree.shown(kdir)}/`}${name ?? KUSTOMIZATION_FILES[0]}`;
    if (!name)
      throw buildError(`${tree.shown(kdir)}: no kustomization.yaml, kustomization.yml or Kustomization`);
    if (visited.has(real)) return file;
    visited.add(real);
    await tree.walk(kdir);
    const text = await readFile(join(kdir, name), 'utf8');
    if (text.length > MAX_KUSTOMIZATION_BYTES) {
      throw buildError(
        `${file}: ${text.length} bytes is more than a kustomization may have (${MAX_KUSTOMIZATION_BYTES})`,
      );
    }
    const doc = parseDocument(text, { uniqueKeys: true });
    if (doc.errors.length > 0) {
      throw buildError(`${file}: YAML error: ${doc.errors[0].message.split('\n')[0]}`);
    }
    const k = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (k === null || k === undefined) return file;
    if (typeof k !== 'object' || Array.isArray(k))
      throw buildError(`${file}: not a kustomization (a YAML mapping)`);
    const fields = k as Record<string, unknown>;
    for (const f of HELM_FIELDS) {
      if (fields[f] !== undefined) {
        throw buildError(
          `${file}: ${f}: Helm chart inflation is off in gitfleet's Kustomize renderer; render the chart with the helm renderer instead`,
        );
      }
    }
    for (const f of RESOURCE_FIELDS) {
      const entries = fields[f];
      if (entries === undefined || entries === null) continue;
      if (!Array.isArray(entries)) throw buildError(`${file}: ${f} must be a list`);
      for (const entry of entries) {
        if (typeof entry !== 'string') throw buildError(`${file}: ${f} entries must be strings`);
        const shown = JSON.stringify(entry.slice(0, 200));
        if (REMOTE.test(entry)) {
          throw buildError(
            `${file}: ${f} entry ${shown} is remote; remote bases and resources are refused (vendor it into the repository)`,
          );
        }
        const abs = resolve(kdir, entry);
        if (!(await lstat(abs).catch(() => undefined))) {
          throw buildError(
            `${file}: ${f} entry ${shown} is not a file or directory of the repository (kustomize would fetch it as a remote base; remote bases are refused)`,
          );
        }
        const target = await tree.realInside(abs, `${file}: ${f} entry ${shown}`);
        if ((await stat(target)).isDirectory()) await visit(abs);
      }
    }
    return file;
  };
  const kustomization = await visit(dir);
  return { kustomization, bytes: tree.bytes };
}

export interface KustomizeRun {
  root: string;
  /** Absolute directory of the kustomization. */
  dir: string;
  kustomization: string;
  kubectl: string;
  timeoutMs: number;
  maxOutputBytes: number;
}

/** Runs `kubectl kustomize`; its stdout, or a BuildFailed error naming the kustomization. */
export async function runKustomize(r: KustomizeRun): Promise<string> {
  try {
    return await withScratchDir((home) =>
      runRenderTool({
        command: r.kubectl,
        args: ['kustomize', r.dir, '--load-restrictor=LoadRestrictionsRootOnly'],
        cwd: home,
        env: renderToolEnv(home) as Record<string, string>,
        timeoutMs: r.timeoutMs,
        maxOutputBytes: r.maxOutputBytes,
      }),
    );
  } catch (err) {
    throw toolBuildError(err, r.kustomization, 'kustomize', r.root, '--kubectl');
  }
}

/** A render tool's failure as a BuildFailed error: `where: tool: why`. */
export function toolBuildError(err: unknown, where: string, tool: string, root: string, flag: string): Error {
  if (!(err instanceof RenderToolError)) return err as Error;
  switch (err.failure) {
    case 'spawn':
      return buildError(`${where}: ${err.message} (set the agent's ${flag} PATH)`, err);
    case 'timeout':
      return buildError(`${where}: ${tool} ${err.message}; it was stopped`, err);
    case 'output':
      return buildError(
        `${where}: ${tool} output ${err.message}, more than the limit (maxRenderedBytes; raise it with gitfleet agent --max-rendered-bytes); it was stopped`,
        err,
      );
    case 'exit':
      return buildError(`${where}: ${tool}: ${toolMessage(err.stderr, root) || err.message}`, err);
  }
}
