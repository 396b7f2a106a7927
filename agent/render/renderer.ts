// Which renderer an assignment uses, and the one path every renderer's output takes: the plain
// renderer reads files, Kustomize and Helm run a pinned tool; all of them feed the same
// RevisionParser (document size, aliases, object count, rendered bytes) and then the same
// finalizeObjects (namespaces, labels, duplicates) and tenant policy, in the reconciler.
import { stat } from 'node:fs/promises';
import { relative } from 'node:path';
import type { HelmOptions } from '../../proto/index.js';
import { buildError } from '../errors.js';
import type { SourceLimits } from '../limits.js';
import { isTestHook, planHelm, runHelm, splitHelmOutput } from './helm/helm-renderer.js';
import { kustomizationIn, planKustomize, runKustomize } from './kustomize/kustomize-renderer.js';
import {
  listManifests,
  readManifests,
  resolvePath,
  RevisionParser,
  skippedNote,
  type ParsedObject,
} from './plain/plain-renderer.js';
import { toPosix } from './tool/input-tree.js';
import { RENDER_TIMEOUT_MS } from './tool/render-tool.js';

export type RendererKind = 'plain' | 'kustomize' | 'helm';
export const RENDERER_NAMES = ['auto', 'plain', 'kustomize', 'helm'] as const;

/** The pinned binaries of the renderers (`gitfleet agent --kubectl`, `--helm`). */
export interface RenderTools {
  /** kubectl with kustomize built in (default: `kubectl` on the agent's PATH). */
  kubectl: string;
  /** helm (default: `helm` on the agent's PATH). */
  helm: string;
  /** The cluster's version for helm's .Capabilities.KubeVersion (default: helm's own). */
  kubeVersion?: string;
  /** How long one kustomize or helm run may take (default RENDER_TIMEOUT_MS). */
  timeoutMs?: number;
}

export const DEFAULT_RENDER_TOOLS: Readonly<RenderTools> = Object.freeze({
  kubectl: 'kubectl',
  helm: 'helm',
});

/**
 * The renderer of an assignment path: `auto` (or empty) picks Kustomize when the directory holds
 * a kustomization, Helm when it holds a Chart.yaml, else plain. An explicit choice must fit the
 * directory; an unknown name is refused (BuildFailed, stalled).
 */
export async function selectRenderer(root: string, path: string, renderer: string): Promise<RendererKind> {
  const name = renderer || 'auto';
  if (!(RENDERER_NAMES as readonly string[]).includes(name)) {
    throw buildError(
      `renderer ${JSON.stringify(name.slice(0, 40))} is not supported by this agent (known: ${RENDERER_NAMES.join(', ')})`,
    );
  }
  if (name === 'plain') return 'plain';
  const { abs, isDir } = await resolvePath(root, path);
  const shown = JSON.stringify(path || '.');
  const kustomization = isDir ? await kustomizationIn(abs) : undefined;
  const chart = isDir && (await stat(`${abs}/Chart.yaml`).catch(() => undefined))?.isFile();
  if (name === 'kustomize') {
    if (!kustomization) {
      throw buildError(
        `renderer kustomize: path ${shown} has no kustomization.yaml, kustomization.yml or Kustomization`,
      );
    }
    return 'kustomize';
  }
  if (name === 'helm') {
    if (!chart)
      throw buildError(`renderer helm: path ${shown} has no Chart.yaml (it must be a chart directory)`);
    return 'helm';
  }
  return kustomization ? 'kustomize' : chart ? 'helm' : 'plain';
}

export interface RenderInput {
  root: string;
  path: string;
  renderer: string;
  assignment: string;
  helm?: HelmOptions;
  /** The namespace Helm renders the release into (.Release.Namespace). */
  namespace: string;
  limits: SourceLimits;
  tools: RenderTools;
}

/** A revision parsed by its renderer, before finalizeObjects. */
export interface RenderOutput {
  renderer: RendererKind;
  objects: ParsedObject[];
  /** For the status message (skipped documents, dropped test hooks); may be empty. */
  notes: string[];
}

/** A render planned and checked, not yet run. */
export interface PlannedRender {
  renderer: RendererKind;
  /** Bytes of the input files: the render budget's weight before the run. */
  bytes: number;
  /**
   * Runs the render. A tool's output is weighed again before it is parsed: `reweigh` is called
   * with its size (it may wait for room in the render budget).
   */
  run(reweigh: (bytes: number) => Promise<void>): Promise<RenderOutput>;
}

/** Selects the renderer and checks its input (files, kustomizations, helm options) before anything runs. */
export async function planRender(input: RenderInput): Promise<PlannedRender> {
  const renderer = await selectRenderer(input.root, input.path, input.renderer);
  const { limits, tools } = input;
  const timeoutMs = tools.timeoutMs ?? RENDER_TIMEOUT_MS;
  const parse = (chunks: Array<[string, string]>, notes: string[] = []): RenderOutput => {
    const parser = new RevisionParser(limits);
    for (const [file, text] of chunks) parser.add(file, text);
    const note = skippedNote(parser.skipped);
    return { renderer, objects: parser.objects, notes: note ? [...notes, note] : notes };
  };
  if (renderer === 'plain') {
    const listing = await listManifests(input.root, input.path, limits);
    return {
      renderer,
      bytes: listing.bytes,
      run: async () => {
        const { objects, skipped } = await readManifests(input.root, input.path, limits, listing);
        const note = skippedNote(skipped);
        return { renderer, objects, notes: note ? [note] : [] };
      },
    };
  }
  const { abs } = await resolvePath(input.root, input.path);
  const shownPath = toPosix(relative(input.root, abs)) || '.';
  if (renderer === 'kustomize') {
    const plan = await planKustomize(input.root, abs, limits.maxFiles);
    return {
      renderer,
      bytes: plan.bytes,
      run: async (reweigh) => {
        const text = await runKustomize({
          root: input.root,
          dir: abs,
          kustomization: plan.kustomization,
          kubectl: tools.kubectl,
          timeoutMs,
          maxOutputBytes: limits.maxRenderedBytes,
        });
        await reweigh(text.length);
        return parse([[`kustomize build of ${shownPath}`, text]]);
      },
    };
  }
  const plan = await planHelm(input.root, abs, input.assignment, input.helm, limits.maxFiles);
  return {
    renderer,
    bytes: plan.bytes,
    run: async (reweigh) => {
      const text = await runHelm({
        ...plan,
        root: input.root,
        chartDir: abs,
        namespace: input.namespace,
        helm: tools.helm,
        kubeVersion: tools.kubeVersion,
        timeoutMs,
        maxOutputBytes: limits.maxRenderedBytes,
      });
      await reweigh(text.length);
      const out = parse(splitHelmOutput(text, `helm template of ${shownPath}`));
      // --skip-tests drops them already; a test hook in another template is dropped here
      const tests = out.objects.filter((o) => isTestHook(o.object));
      if (tests.length === 0) return out;
      out.objects = out.objects.filter((o) => !isTestHook(o.object));
      out.notes.push(
        `left out ${tests.length} chart test hook(s): ${tests
          .map((t) => t.file)
          .slice(0, 5)
          .join(', ')}`,
      );
      return out;
    },
  };
}
