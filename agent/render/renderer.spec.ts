// Renderer selection and the planned renders, on real directories with the pinned kubectl and
// helm (test/env/setup.sh installs them): what reaches the parse, and the messages of refusals.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { renderTool } from '../../test/env/binaries.js';
import { ReconcileError } from '../errors.js';
import { DEFAULT_SOURCE_LIMITS } from '../limits.js';
import { planRender, selectRenderer, type RenderInput } from './renderer.js';

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  a: "1"\n`;

let root: string;
let outside: string;

function write(files: Record<string, string>, base = root): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(base, path)), { recursive: true });
    writeFileSync(join(base, path), text);
  }
}

const input = (path: string, extra: Partial<RenderInput> = {}): RenderInput => ({
  root,
  path,
  renderer: 'auto',
  assignment: 'web',
  namespace: 'team-a',
  limits: DEFAULT_SOURCE_LIMITS,
  tools: { kubectl: renderTool('kubectl'), helm: renderTool('helm') },
  ...extra,
});

async function render(path: string, extra: Partial<RenderInput> = {}) {
  const plan = await planRender(input(path, extra));
  const out = await plan.run(async () => {});
  return { plan, ...out, names: out.objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`) };
}

async function refusal(path: string, extra: Partial<RenderInput> = {}): Promise<string> {
  const err = await render(path, extra).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ReconcileError);
  expect((err as ReconcileError).stalled).toBe(true);
  return (err as Error).message;
}

beforeAll(() => {
  const top = mkdtempSync(join(tmpdir(), 'renderer-spec-'));
  root = join(top, 'checkout');
  outside = join(top, 'other-repo');
  write({ 'kustomization.yaml': 'resources: [cm.yaml]\n', 'cm.yaml': cm('foreign') }, outside);
  write({
    'plain/cm.yaml': cm('one'),
    'plain/values.yaml': 'replicas: 2\nimage: nginx\n',
    'plain/more.json': JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'json' } }),
    'base/kustomization.yaml': 'resources: [cm.yaml]\n',
    'base/cm.yaml': cm('settings'),
    'overlays/prod/kustomization.yml':
      'namePrefix: prod-\nresources: [../../base]\npatches:\n- patch: |\n    apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: settings}\n    data: {a: "2"}\n',
    'chart/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 0.1.0\n',
    'chart/values.yaml': 'greeting: hello\nreplicas: 1\n',
    'chart/values-prod.yaml': 'replicas: 3\n',
    'chart/templates/cm.yaml':
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n  namespace: {{ .Release.Namespace }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n  replicas: {{ .Values.replicas | quote }}\n',
    'chart/templates/tests/test.yaml':
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  annotations: {"helm.sh/hook": test}\nspec:\n  containers: [{name: t, image: busybox}]\n',
    'both/kustomization.yaml': 'resources: []\n',
    'both/Chart.yaml': 'apiVersion: v2\nname: both\nversion: 0.1.0\n',
    'bad/outside/kustomization.yaml': 'resources: [../../../other-repo]\n',
    'bad/remote/kustomization.yaml':
      'resources:\n- https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v5.7.1\n',
    'bad/bare-remote/kustomization.yaml': 'resources:\n- github.com/org/repo/base\n',
    'bad/missing/kustomization.yaml': 'resources: [nothere]\n',
    'bad/helm/kustomization.yaml': 'helmCharts:\n- name: x\n  repo: https://charts.example\n',
    'bad/exec/kustomization.yaml': 'resources: [cm.yaml]\ngenerators: [gen.yaml]\n',
    'bad/exec/cm.yaml': cm('x'),
    'bad/exec/gen.yaml':
      'apiVersion: example.com/v1\nkind: Gen\nmetadata:\n  name: g\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: /bin/sh\n',
    'bad/broken/kustomization.yaml': 'resources: [cm.yaml]\npatches:\n- path: nope.yaml\n',
    'bad/broken/cm.yaml': cm('x'),
    'bad/link/kustomization.yaml': 'resources: [cm.yaml]\n',
    'badchart/Chart.yaml': 'apiVersion: v2\nname: bad\nversion: 0.1.0\n',
    'badchart/templates/cm.yaml':
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.missing.deep }}\n',
    'depchart/Chart.yaml':
      'apiVersion: v2\nname: dep\nversion: 0.1.0\ndependencies:\n- name: redis\n  version: 1.0.0\n  repository: https://charts.example.com\n',
  });
  symlinkSync(join(outside, 'cm.yaml'), join(root, 'bad/link/cm.yaml'));
});

afterAll(() => rmSync(dirname(root), { recursive: true, force: true }));

describe('selectRenderer', () => {
  it('picks by the directory in auto, Kustomize before Helm, plain otherwise', async () => {
    expect(await selectRenderer(root, 'overlays/prod', 'auto')).toBe('kustomize');
    expect(await selectRenderer(root, 'chart', '')).toBe('helm');
    expect(await selectRenderer(root, 'both', 'auto')).toBe('kustomize');
    expect(await selectRenderer(root, 'plain', 'auto')).toBe('plain');
    expect(await selectRenderer(root, 'plain/cm.yaml', 'auto')).toBe('plain');
    expect(await selectRenderer(root, 'both', 'helm')).toBe('helm');
    expect(await selectRenderer(root, 'chart', 'plain')).toBe('plain');
  });

  it('refuses an unknown renderer and a choice the directory does not fit', async () => {
    await expect(selectRenderer(root, 'plain', 'jsonnet')).rejects.toThrow(
      'renderer "jsonnet" is not supported by this agent (known: auto, plain, kustomize, helm)',
    );
    await expect(selectRenderer(root, 'plain', 'kustomize')).rejects.toThrow(
      'renderer kustomize: path "plain" has no kustomization.yaml, kustomization.yml or Kustomization',
    );
    await expect(selectRenderer(root, 'plain', 'helm')).rejects.toThrow(
      'renderer helm: path "plain" has no Chart.yaml (it must be a chart directory)',
    );
  });
});

describe('planRender: plain', () => {
  it('skips documents with neither apiVersion nor kind, naming them, and reads .json', async () => {
    const r = await render('plain');
    expect(r.renderer).toBe('plain');
    expect(r.names).toEqual(['ConfigMap/one', 'ConfigMap/json']);
    expect(r.notes).toEqual([
      'skipped plain/values.yaml (documents with neither apiVersion nor kind are not Kubernetes objects)',
    ]);
  });
});

describe('planRender: kustomize', () => {
  it('renders an overlay over its base: the patch and the name prefix', async () => {
    const r = await render('overlays/prod');
    expect(r.renderer).toBe('kustomize');
    expect(r.names).toEqual(['ConfigMap/prod-settings']);
    expect(r.objects[0].object.data).toEqual({ a: '2' });
    expect(r.objects[0].file).toBe('kustomize build of overlays/prod');
    expect(r.plan.bytes).toBeGreaterThan(0);
  });

  it('refuses a base outside the checkout, remote bases, helm inflation, before running', async () => {
    expect(await refusal('bad/outside')).toBe(
      'bad/outside/kustomization.yaml: resources entry "../../../other-repo" points outside the repository (or nowhere); it must stay inside the checkout',
    );
    expect(await refusal('bad/remote')).toBe(
      'bad/remote/kustomization.yaml: resources entry "https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v5.7.1" is remote; remote bases and resources are refused (vendor it into the repository)',
    );
    expect(await refusal('bad/bare-remote')).toMatch(
      /resources entry "github.com\/org\/repo\/base" is remote/,
    );
    expect(await refusal('bad/missing')).toBe(
      'bad/missing/kustomization.yaml: resources entry "nothere" is not a file or directory of the repository (kustomize would fetch it as a remote base; remote bases are refused)',
    );
    expect(await refusal('bad/helm')).toMatch(
      /^bad\/helm\/kustomization.yaml: helmCharts: Helm chart inflation is off/,
    );
    expect(await refusal('bad/link')).toBe(
      'bad/link/cm.yaml: symbolic link points outside the repository (or nowhere); it must stay inside the checkout',
    );
  });

  it("refuses exec plugins and reports kustomize's own error in one line", async () => {
    const exec = await refusal('bad/exec');
    expect(exec).toMatch(/^bad\/exec\/kustomization.yaml: kustomize: /);
    expect(exec).not.toContain('\n');
    const broken = await refusal('bad/broken');
    expect(broken).toMatch(/^bad\/broken\/kustomization.yaml: kustomize: .*nope.yaml/);
    expect(broken).not.toContain(root);
  });

  it('names a kubectl that is not there', async () => {
    expect(await refusal('overlays/prod', { tools: { kubectl: '/nonexistent/kubectl', helm: 'helm' } })).toBe(
      "overlays/prod/kustomization.yml: cannot run /nonexistent/kubectl: not found (set the agent's --kubectl PATH)",
    );
  });

  it('stops kustomize past maxRenderedBytes', async () => {
    const msg = await refusal('overlays/prod', {
      limits: { ...DEFAULT_SOURCE_LIMITS, maxRenderedBytes: 50 },
    });
    expect(msg).toBe(
      'overlays/prod/kustomization.yml: kustomize output wrote more than 50 bytes, more than the limit (maxRenderedBytes; raise it with gitfleet agent --max-rendered-bytes); it was stopped',
    );
  });
});

describe('planRender: helm', () => {
  it('renders with the release name, namespace, values files and --set in order, without test hooks', async () => {
    const r = await render('chart', {
      helm: { releaseName: 'site', valuesFiles: ['values-prod.yaml'], set: ['greeting=hi', 'replicas=5'] },
    });
    expect(r.renderer).toBe('helm');
    expect(r.names).toEqual(['ConfigMap/site-cm']);
    expect(r.objects[0].object.metadata.namespace).toBe('team-a');
    expect(r.objects[0].object.data).toEqual({ greeting: 'hi', replicas: '5' });
    expect(r.objects[0].file).toBe('web/templates/cm.yaml');
    const values = await render('chart', {
      helm: { releaseName: '', valuesFiles: ['values-prod.yaml'], set: [] },
    });
    expect(values.names).toEqual(['ConfigMap/web-cm']);
    expect(values.objects[0].object.data).toEqual({ greeting: 'hello', replicas: '3' });
  });

  it('refuses values files outside the chart repository and bad --set entries, naming them', async () => {
    const opts = (valuesFiles: string[], set: string[] = []) => ({
      helm: { releaseName: '', valuesFiles, set },
    });
    expect(await refusal('chart', opts(['../plain/values.yaml']))).toBe(
      'helm values file "../plain/values.yaml": must not contain ".." (it must stay inside the chart\'s repository)',
    );
    expect(await refusal('chart', opts(['/etc/passwd']))).toBe(
      'helm values file "/etc/passwd": is absolute; give it relative to the chart directory',
    );
    expect(await refusal('chart', opts(['nope.yaml']))).toBe(
      'helm values file "nope.yaml": not found in the chart directory chart',
    );
    expect(await refusal('chart', opts([], ['novalue']))).toBe(
      'helm set "novalue": must be key=value on one line (at most 4096 characters)',
    );
    expect(await refusal('chart', { helm: { releaseName: 'Bad_Name', valuesFiles: [], set: [] } })).toMatch(
      /^helm.release_name "Bad_Name" is not a valid Helm release name/,
    );
  });

  it("reports helm's own error for a chart that fails to render and for unvendored dependencies", async () => {
    expect(await refusal('badchart')).toMatch(/^badchart\/Chart.yaml: helm template: .*missing/);
    expect(await refusal('depchart')).toMatch(/^depchart\/Chart.yaml: helm template: .*redis/);
  });
});
