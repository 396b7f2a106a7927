// The Helm renderer: `helm template RELEASE CHART --namespace NS --include-crds --skip-tests` with
// the agent's pinned helm (--helm). The release name is the assignment's helm.releaseName or its
// name; values files (helm.valuesFiles, relative to the chart directory, in order) must be files
// of the checkout; inline values (helm.set) follow them in order. Helm runs offline: empty
// repository and registry configurations, its cache, config and data homes in a scratch
// directory, no plugins, proxies to nowhere (renderToolEnv), so a chart whose dependencies are not
// vendored in charts/ fails instead of downloading them. Chart test hooks (helm.sh/hook: test*)
// are never applied; other hooks are applied as ordinary objects with the rest of the chart
// (hook weights and delete policies are ignored). Its output goes through the same parse as plain.
import { lstat, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { HelmOptions } from '../../../proto/index.js';
import { buildError } from '../../errors.js';
import type { ManifestObject } from '../../kube/objects.js';
import { InputTree, toPosix } from '../tool/input-tree.js';
import { renderToolEnv, runRenderTool, withScratchDir } from '../tool/render-tool.js';
import { toolBuildError } from '../kustomize/kustomize-renderer.js';

/** Helm's own rule for release names (helm install refuses others). */
const RELEASE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_RELEASE_NAME = 53;
const MAX_SET_ENTRY = 4096;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface HelmPlan {
  release: string;
  /** Values files, absolute, checked inside the checkout. */
  valuesFiles: string[];
  set: string[];
  /** Bytes of the chart's files (the render budget's first weight). */
  bytes: number;
}

/**
 * Checks the chart directory (every entry, dot-files included: templates read them with
 * .Files.Get) and the assignment's helm options. Throws a BuildFailed error naming the field or
 * file.
 */
export async function planHelm(
  root: string,
  chartDir: string,
  assignment: string,
  helm: HelmOptions | undefined,
  maxFiles: number,
): Promise<HelmPlan> {
  const tree = await InputTree.of(root, maxFiles);
  const release = helm?.releaseName || assignment;
  if (release.length > MAX_RELEASE_NAME || !RELEASE_NAME.test(release)) {
    throw buildError(
      `helm.release_name ${JSON.stringify(release.slice(0, 80))} is not a valid Helm release name (lowercase letters, digits, "-" and ".", at most ${MAX_RELEASE_NAME} characters)`,
    );
  }
  await tree.walk(chartDir);
  const valuesFiles: string[] = [];
  for (const f of helm?.valuesFiles ?? []) {
    const shown = `helm values file ${JSON.stringify(f.slice(0, 200))}`;
    if (f === '' || CONTROL.test(f) || f.includes('\\') || f.includes(',')) {
      throw buildError(`${shown}: must be a path without backslashes, commas or control characters`);
    }
    if (f.startsWith('/')) throw buildError(`${shown}: is absolute; give it relative to the chart directory`);
    if (f.split('/').includes('..'))
      throw buildError(`${shown}: must not contain ".." (it must stay inside the chart's repository)`);
    const abs = resolve(chartDir, f);
    if (!(await lstat(abs).catch(() => undefined)))
      throw buildError(`${shown}: not found in the chart directory ${tree.shown(chartDir)}`);
    const real = await tree.realInside(abs, shown);
    if (!(await stat(real)).isFile()) throw buildError(`${shown}: is not a file`);
    valuesFiles.push(abs);
  }
  const set: string[] = [];
  for (const entry of helm?.set ?? []) {
    const shown = `helm set ${JSON.stringify(entry.slice(0, 80))}`;
    if (
      !entry.includes('=') ||
      entry.startsWith('=') ||
      CONTROL.test(entry) ||
      entry.length > MAX_SET_ENTRY
    ) {
      throw buildError(`${shown}: must be key=value on one line (at most ${MAX_SET_ENTRY} characters)`);
    }
    set.push(entry);
  }
  return { release, valuesFiles, set, bytes: tree.bytes };
}

export interface HelmRun extends HelmPlan {
  root: string;
  /** Absolute chart directory. */
  chartDir: string;
  namespace: string;
  helm: string;
  /** --kube-version: the cluster's version as .Capabilities.KubeVersion. */
  kubeVersion?: string;
  timeoutMs: number;
  maxOutputBytes: number;
}

/** Runs `helm template`; its stdout, or a BuildFailed error naming the chart. */
export async function runHelm(r: HelmRun): Promise<string> {
  const where = `${toPosix(relative(r.root, r.chartDir)) || '.'}/Chart.yaml`;
  try {
    return await withScratchDir(async (home) => {
      const repositories = join(home, 'repositories.yaml');
      const registry = join(home, 'registry.json');
      await writeFile(repositories, '');
      await writeFile(registry, '{}');
      const env = renderToolEnv(home, {
        HELM_CACHE_HOME: join(home, 'cache'),
        HELM_CONFIG_HOME: join(home, 'config'),
        HELM_DATA_HOME: join(home, 'data'),
        HELM_PLUGINS: join(home, 'plugins'),
        HELM_REPOSITORY_CONFIG: repositories,
        HELM_REGISTRY_CONFIG: registry,
      });
      return runRenderTool({
        command: r.helm,
        args: [
          'template',
          r.release,
          r.chartDir,
          `--namespace=${r.namespace}`,
          '--include-crds',
          '--skip-tests',
          ...(r.kubeVersion ? [`--kube-version=${r.kubeVersion}`] : []),
          `--repository-config=${repositories}`,
          `--registry-config=${registry}`,
          ...r.valuesFiles.map((f) => `--values=${f}`),
          ...r.set.map((s) => `--set=${s}`),
        ],
        cwd: home,
        env: env as Record<string, string>,
        timeoutMs: r.timeoutMs,
        maxOutputBytes: r.maxOutputBytes,
      });
    });
  } catch (err) {
    throw toolBuildError(err, where, 'helm template', r.root, '--helm');
  }
}

/** helm template's output cut at its `# Source: FILE` comments: [file, text] in order. */
export function splitHelmOutput(text: string, fallback: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const marks = [...text.matchAll(/^---[ \t]*\r?\n# Source: (.+)$/gm)];
  if (marks.length === 0 || marks[0].index > 0) {
    const head = text.slice(0, marks[0]?.index ?? text.length);
    if (head.trim()) out.push([fallback, head]);
  }
  marks.forEach((m, i) => {
    const end = i + 1 < marks.length ? marks[i + 1].index : text.length;
    out.push([m[1].trim(), text.slice(m.index, end)]);
  });
  return out;
}

/** Whether an object is a chart test hook (helm.sh/hook: test, test-success, test-failure). */
export function isTestHook(object: ManifestObject): boolean {
  const hook = object.metadata.annotations?.['helm.sh/hook'];
  return typeof hook === 'string' && hook.split(',').some((h) => h.trim().startsWith('test'));
}
