// render: the agent's renderers against the bare tools in the same run. N Kustomize overlays of one
// base and N Helm charts, each rendered by the agent's render path (agent/render/renderer.ts:
// renderer selection, the input checks, the sandboxed tool run, the parse into objects under the
// limits) and by the bare `kubectl kustomize DIR` / `helm template NAME DIR` of the same pinned
// binaries. Items are interleaved (the agent first on even items, the bare tool on odd ones), so
// the machine's load weighs on both alike. Goal: the agent's total ≤ 1.2× the bare tools' total.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { DEFAULT_SOURCE_LIMITS } from '../../../agent/limits.js';
import { planRender, type RenderTools } from '../../../agent/render/renderer.js';
import { renderTool } from '../../env/index.js';
import { configMapYaml, deploymentYaml, serviceYaml } from '../../fixtures/manifests.js';
import { fmtMs, ratio, type ResultRow } from '../lib/report.js';
import {
  tempDir,
  withCleanup,
  type Scenario,
  type ScenarioContext,
  type ScenarioOutcome,
} from '../lib/scenario.js';

const execFileAsync = promisify(execFile);
const GOAL_RATIO = 1.2;
const NAMESPACE = 'team-a';

/** A repository with one Kustomize base, `n` overlays of it and `n` Helm charts. */
function writeRepo(root: string, n: number): { overlays: string[]; charts: string[] } {
  const write = (path: string, text: string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write('base/kustomization.yaml', 'resources:\n  - deployment.yaml\n  - service.yaml\n  - config.yaml\n');
  write('base/deployment.yaml', deploymentYaml('web', { replicas: 1 }));
  write('base/service.yaml', serviceYaml('web', { headless: false }));
  write('base/config.yaml', configMapYaml('web-config', { level: 'info' }));
  const overlays: string[] = [];
  const charts: string[] = [];
  for (let i = 0; i < n; i++) {
    const overlay = `overlays/o-${i}`;
    write(
      `${overlay}/kustomization.yaml`,
      [
        'resources:',
        '  - ../../base',
        `namePrefix: o${i}-`,
        'commonLabels:',
        `  overlay: o-${i}`,
        'patches:',
        '  - patch: |-',
        '      apiVersion: v1',
        '      kind: ConfigMap',
        '      metadata:',
        '        name: web-config',
        '      data:',
        `        level: debug-${i}`,
        '',
      ].join('\n'),
    );
    overlays.push(overlay);
    const chart = `charts/c-${i}`;
    write(`${chart}/Chart.yaml`, `apiVersion: v2\nname: c-${i}\nversion: 0.1.${i}\n`);
    write(`${chart}/values.yaml`, `replicas: 2\ngreeting: hello-${i}\n`);
    write(
      `${chart}/templates/deployment.yaml`,
      deploymentYaml('{{ .Release.Name }}-web', { replicas: 1 }).replace(
        'replicas: 1',
        'replicas: {{ .Values.replicas }}',
      ),
    );
    write(
      `${chart}/templates/config.yaml`,
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\ndata:\n  greeting: {{ .Values.greeting | quote }}\n',
    );
    write(`${chart}/templates/service.yaml`, serviceYaml('{{ .Release.Name }}-web', { headless: false }));
    charts.push(chart);
  }
  return { overlays, charts };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

export const render: Scenario = {
  name: 'render',
  title: 'Render Kustomize overlays and Helm charts (agent vs. bare kubectl kustomize / helm template)',
  sizes: '100 overlays and 100 charts (quick: 10 each)',
  async run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
    const n = ctx.size ?? (ctx.quick ? 10 : 100);
    const progress = ctx.progress;
    return withCleanup(progress, async (cleanup) => {
      const root = tempDir(cleanup, 'gitfleet-bench-render-');
      const { overlays, charts } = writeRepo(root, n);
      const tools: RenderTools = { kubectl: renderTool('kubectl'), helm: renderTool('helm') };
      const agentRender = async (path: string, renderer: 'kustomize' | 'helm', name: string) => {
        const plan = await planRender({
          root,
          path,
          renderer,
          assignment: name,
          namespace: NAMESPACE,
          limits: { ...DEFAULT_SOURCE_LIMITS },
          tools,
        });
        const out = await plan.run(async () => undefined);
        if (out.objects.length !== 3) throw new Error(`${path}: ${out.objects.length} objects, want 3`);
      };
      const bare = {
        kustomize: (path: string) => execFileAsync(tools.kubectl, ['kustomize', join(root, path)]),
        helm: (path: string, name: string) =>
          execFileAsync(tools.helm, ['template', name, join(root, path), '--namespace', NAMESPACE]),
      };

      const kinds = [
        {
          kind: 'kustomize' as const,
          paths: overlays,
          peerName: '`kubectl kustomize`',
          agent: (p: string, i: number) => agentRender(p, 'kustomize', `o-${i}`),
          peer: (p: string) => bare.kustomize(p),
        },
        {
          kind: 'helm' as const,
          paths: charts,
          peerName: '`helm template`',
          agent: (p: string, i: number) => agentRender(p, 'helm', `c-${i}`),
          peer: (p: string, i: number) => bare.helm(p, `c-${i}`),
        },
      ];
      const rows: ResultRow[] = [];
      const details: Record<string, unknown> = { n };
      for (const k of kinds) {
        // one uncounted run of each: binaries and files are in the page cache for every measured one
        await k.agent(k.paths[0], 0);
        await k.peer(k.paths[0], 0);
        let agentMs = 0;
        let peerMs = 0;
        const started = Date.now();
        for (let i = 0; i < k.paths.length; i++) {
          const p = k.paths[i];
          if (i % 2 === 0) {
            agentMs += await timed(() => k.agent(p, i));
            peerMs += await timed(() => k.peer(p, i));
          } else {
            peerMs += await timed(() => k.peer(p, i));
            agentMs += await timed(() => k.agent(p, i));
          }
          progress.count(`${k.kind} renders`, i + 1, k.paths.length, started);
        }
        const r = ratio(agentMs, peerMs);
        progress.say(`${k.kind}: agent ${fmtMs(agentMs)}, bare ${fmtMs(peerMs)}`);
        rows.push({
          size: `${n} ${k.kind === 'kustomize' ? 'overlays' : 'charts'}`,
          metric: `${k.kind}: total render time`,
          gitfleet: fmtMs(agentMs),
          peerName: k.peerName,
          peer: fmtMs(peerMs),
          ratio: r,
          goal: `≤ ${GOAL_RATIO}× ${k.peerName}`,
          met: r !== undefined && r <= GOAL_RATIO,
        });
        details[k.kind] = { agentMs: Math.round(agentMs), bareMs: Math.round(peerMs) };
      }
      return {
        rows,
        notes: [
          `Each of ${n} Kustomize overlays (one base: a Deployment, a Service, a ConfigMap; namePrefix, commonLabels, a patch) and ${n} Helm charts (the same three objects from templates) rendered one after another by the agent's render path (renderer selection, input checks, the tool in its sandbox, the parse into objects under the default limits) and by the bare binary, interleaved; the pinned kubectl 1.35 (kustomize 5.7) and helm 4.1.4 for both.`,
        ],
        details,
      };
    });
  },
};
