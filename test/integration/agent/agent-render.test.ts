// The agent's Kustomize and Helm renderers end to end, with the pinned kubectl and helm, against
// the real kube-apiserver: a repository laid out like public examples (a Kustomize base with
// overlays, a Helm chart with values files), and the ways a commit can break them, each failing
// with the message a user sees while the last good revision stays applied.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AssignmentState,
  Reason,
  formatGitRevision,
  type AssignmentStatus,
  type DeepPartial,
  type DesiredAssignment,
} from '../../../proto/index.js';
import { renderTool } from '../../env/binaries.js';
import { eventually } from '../../env/index.js';
import { AgentHarness } from './agent-harness.js';

const base = {
  'deploy/base/kustomization.yaml': 'resources:\n- deployment.yaml\n- config.yaml\n',
  'deploy/base/config.yaml':
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: "info"\n  color: "blue"\n',
  'deploy/base/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
`,
  'deploy/overlays/staging/kustomization.yaml': 'namePrefix: staging-\nresources:\n- ../../base\n',
  'deploy/overlays/prod/kustomization.yaml': `namePrefix: prod-
commonLabels:
  env: prod
resources:
- ../../base
patches:
- path: replicas.yaml
- patch: |-
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: settings
    data:
      level: "warn"
`,
  'deploy/overlays/prod/replicas.yaml':
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n',
  'charts/site/Chart.yaml': 'apiVersion: v2\nname: site\nversion: 1.2.0\nappVersion: "1.27"\n',
  'charts/site/values.yaml': 'greeting: hello\ncolor: blue\nreplicas: 1\n',
  'charts/site/values-prod.yaml': 'color: red\nreplicas: 2\n',
  'charts/site/templates/_helpers.tpl': '{{- define "site.fullname" -}}{{ .Release.Name }}-site{{- end -}}\n',
  'charts/site/templates/configmap.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "site.fullname" . }}
  labels:
    chart: {{ .Chart.Name }}-{{ .Chart.Version }}
data:
  greeting: {{ .Values.greeting | quote }}
  color: {{ .Values.color | quote }}
  replicas: {{ .Values.replicas | quote }}
  namespace: {{ .Release.Namespace | quote }}
`,
  'charts/site/templates/tests/test-connection.yaml': `apiVersion: v1
kind: Pod
metadata:
  name: {{ include "site.fullname" . }}-test
  annotations:
    "helm.sh/hook": test
spec:
  restartPolicy: Never
  containers:
  - name: wget
    image: busybox
    command: ['wget', 'site:80']
`,
};

describe('agent: Kustomize and Helm renderers', () => {
  let h: AgentHarness;
  let good: string;

  const rev = (commit: string) => formatGitRevision('main', commit);

  const site = (commit: string, extra: Partial<DesiredAssignment> = {}): DeepPartial<DesiredAssignment> =>
    h.web(commit, {
      name: 'site',
      path: 'charts/site',
      renderer: 'auto',
      helm: { releaseName: '', valuesFiles: ['values-prod.yaml'], set: ['greeting=hi'] },
      ...extra,
    });
  const web = (commit: string, path = 'deploy/overlays/prod', renderer = 'auto') =>
    h.web(commit, { path, renderer });

  const statusOf = (name: string, commit: string, state: AssignmentState, after: number) =>
    h.hub.waitForStatus(
      (s) => s.assignment === name && s.state === state && s.desiredRevision === rev(commit),
      { after },
    );

  /** Publishes `web` and `site` at the given commits and paths, and waits for both statuses. */
  async function publish(
    webAt: DeepPartial<DesiredAssignment>,
    siteAt: DeepPartial<DesiredAssignment>,
    states: [AssignmentState, AssignmentState],
  ): Promise<[AssignmentStatus, AssignmentStatus]> {
    const after = h.hub.statuses.length;
    await h.hub.publish(h.desired(webAt, siteAt));
    return Promise.all([
      statusOf('web', webAt.source!.commit!, states[0], after),
      statusOf('site', siteAt.source!.commit!, states[1], after),
    ]);
  }

  const READY = AssignmentState.ASSIGNMENT_STATE_READY;
  const FAILED = AssignmentState.ASSIGNMENT_STATE_FAILED;

  /** The good revision is still what the cluster runs. */
  async function goodStays(): Promise<void> {
    expect((await h.configMap('team-a', 'prod-settings'))?.data).toEqual({ level: 'warn', color: 'blue' });
    expect((await h.configMap('team-a', 'site-site'))?.data).toMatchObject({ greeting: 'hi', color: 'red' });
  }

  /** Commits `files`, points web at `webPath` (and site at its chart), expects web to fail with `message`. */
  async function webFails(files: Record<string, string>, webPath: string, message: RegExp): Promise<void> {
    const commit = await h.repo.commit(files);
    const [w] = await publish(web(commit, webPath), site(good), [FAILED, READY]);
    expect(w.reason).toBe(Reason.BuildFailed);
    expect(w.message).toMatch(message);
    expect(w.message).not.toContain('\n');
    expect(w.appliedRevision).toBe(rev(good));
    expect(w.conditions.find((c) => c.type === 'Stalled')?.status).toBe('True');
    await goodStays();
  }

  async function siteFails(
    files: Record<string, string>,
    extra: Partial<DesiredAssignment>,
    message: RegExp,
  ): Promise<void> {
    const commit = await h.repo.commit(files);
    const [, s] = await publish(web(good), site(commit, extra), [READY, FAILED]);
    expect(s.reason).toBe(Reason.BuildFailed);
    expect(s.message).toMatch(message);
    expect(s.message).not.toContain('\n');
    expect(s.appliedRevision).toBe(rev(good));
    await goodStays();
  }

  beforeAll(async () => {
    h = await AgentHarness.start();
    await h.hub.createBus();
    await h.startAgent({ kubectl: renderTool('kubectl'), helm: renderTool('helm') });
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
  }, 60_000);

  it('applies a Kustomize overlay (patches, namePrefix, labels) and a Helm chart (values file, --set) to the cluster', async () => {
    good = await h.repo.commit(base);
    const [w, s] = await publish(web(good), site(good), [READY, READY]);
    expect(w.changes).toMatchObject({ created: 2 });
    expect(s.changes).toMatchObject({ created: 1 });
    expect(s.message).toContain('applied revision');

    const settings = await h.configMap('team-a', 'prod-settings');
    expect(settings?.data).toEqual({ level: 'warn', color: 'blue' });
    expect(settings?.metadata?.labels).toMatchObject({ env: 'prod', 'gitfleet.dev/assignment': 'web' });
    const dep = await h.apps.readNamespacedDeployment({ namespace: 'team-a', name: 'prod-web' });
    expect(dep.spec?.replicas).toBe(3);
    await expect(h.configMap('team-a', 'settings')).resolves.toBeUndefined();

    const chart = await h.configMap('team-a', 'site-site');
    expect(chart?.data).toEqual({ greeting: 'hi', color: 'red', replicas: '2', namespace: 'team-a' });
    expect(chart?.metadata?.labels).toMatchObject({ chart: 'site-1.2.0', 'gitfleet.dev/assignment': 'site' });
    // the chart's test hook is never applied
    await expect(
      h.core.readNamespacedPod({ namespace: 'team-a', name: 'site-site-test' }),
    ).rejects.toMatchObject({
      code: 404,
    });
  });

  it('refuses a base outside the checkout (another checkout in the agent cache)', async () => {
    await webFails(
      {
        'deploy/overlays/outside/kustomization.yaml': `resources:\n- ../../../../${good}/deploy/base\n`,
      },
      'deploy/overlays/outside',
      /^deploy\/overlays\/outside\/kustomization.yaml: resources entry "..\/..\/..\/..\/[0-9a-f]{40}\/deploy\/base" (points outside the repository|is not a file or directory of the repository)/,
    );
  });

  it('refuses a remote base', async () => {
    await webFails(
      {
        'deploy/overlays/remote/kustomization.yaml':
          'resources:\n- https://github.com/kubernetes-sigs/kustomize//examples/multibases?ref=v5.7.1\n',
      },
      'deploy/overlays/remote',
      /^deploy\/overlays\/remote\/kustomization.yaml: resources entry "https:\/\/github.com\/kubernetes-sigs\/kustomize\/\/examples\/multibases\?ref=v5.7.1" is remote; remote bases and resources are refused \(vendor it into the repository\)$/,
    );
  });

  it('refuses an exec plugin', async () => {
    await webFails(
      {
        'deploy/overlays/exec/kustomization.yaml': 'resources:\n- ../../base\ntransformers:\n- run.yaml\n',
        'deploy/overlays/exec/run.yaml':
          'apiVersion: example.com/v1\nkind: Runner\nmetadata:\n  name: run\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: /bin/sh\n',
      },
      'deploy/overlays/exec',
      /^deploy\/overlays\/exec\/kustomization.yaml: kustomize: .*external plugins disabled/,
    );
  });

  it("reports a broken kustomization with kustomize's own message", async () => {
    await webFails(
      {
        'deploy/overlays/broken/kustomization.yaml':
          'resources:\n- ../../base\npatches:\n- path: missing.yaml\n',
      },
      'deploy/overlays/broken',
      /^deploy\/overlays\/broken\/kustomization.yaml: kustomize: .*missing.yaml/,
    );
  });

  it('reports a chart that fails to render', async () => {
    await siteFails(
      {
        'charts/site/templates/broken.yaml':
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.nope.deeper }}\n',
      },
      {},
      /^charts\/site\/Chart.yaml: helm template: .*broken.yaml.*nil pointer/,
    );
  });

  // the hub never publishes such a values file, and the agent checks every desired set with the
  // hub's rules (proto/contract/validation.ts): the set is refused whole before anything is read,
  // the last good set stays, and the reason goes with the heartbeat
  it('refuses a values file that climbs out of the chart with ..', async () => {
    const commit = await h.repo.commit({ 'charts/site/templates/broken.yaml': '' });
    const generation = h.agent!.desired().generation;
    const beats = h.hub.heartbeats.length;
    await h.hub.publish(
      h.desired(
        web(good),
        site(commit, { helm: { releaseName: '', valuesFiles: ['../../deploy/base/config.yaml'], set: [] } }),
      ),
    );
    const hb = await eventually(() =>
      h.hub.heartbeats.slice(beats).find((b) => b.desiredSetError.includes('helm.values_files')),
    );
    expect(hb.desiredSetError).toContain('must not contain ".."');
    expect(h.agent!.desired().generation).toBe(generation);
    await goodStays();
  });

  it('names the files a plain render skipped, reads .json, and prunes the overlay it replaced', async () => {
    const commit = await h.repo.commit({
      'plain/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain-one\n',
      'plain/values.yaml': 'replicas: 2\n',
      'plain/extra.json': '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "plain-json"}}\n',
    });
    const [w] = await publish(web(commit, 'plain', 'auto'), site(good), [READY, READY]);
    expect(w.message).toMatch(
      /^applied revision .*; skipped plain\/values.yaml \(documents with neither apiVersion nor kind are not Kubernetes objects\)$/,
    );
    expect(await h.configMap('team-a', 'plain-json')).toBeDefined();
    // the overlay's objects were pruned with the switch to the plain path
    await expect(h.configMap('team-a', 'prod-settings')).resolves.toBeUndefined();
  });
});
