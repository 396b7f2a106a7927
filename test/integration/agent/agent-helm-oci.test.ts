// Helm charts from an OCI registry, end to end, behind HTTP basic authentication: charts packaged
// and pushed by the real helm (`helm push`, which stores version 0.1.1+build.2 as tag
// "0.1.1_build.2") to Debian's docker-registry with an htpasswd user; the hub's OCI remote
// resolves a SemVer range over those tags to a digest with the credentials; the agent pulls the
// chart by digest with the same credentials and renders it with the pinned helm. And what must
// fail clearly: no credentials, a wrong password (never echoed), a chart package with entries
// outside its one directory.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssignmentState, type DeepPartial, type DesiredAssignment } from '../../../proto/index.js';
import { OciRemoteRepository } from '../../../hub/repos/oci-remote.repository.js';
import { parseOciUrl } from '../../../lib/oci/oci-reference.js';
import {
  HELM_CHART_CONTENT,
  HELM_CONFIG,
  OCI_MANIFEST,
  RegistryClient,
} from '../../../lib/oci/registry-client.js';
import { K8S_VERSION, renderTool } from '../../env/binaries.js';
import { startRegistry, type RegistryEnv } from '../../env/registry.js';
import { tempDir } from '../hub/harness.js';
import { AgentHarness } from './agent-harness.js';

const READY = AssignmentState.ASSIGNMENT_STATE_READY;
const FAILED = AssignmentState.ASSIGNMENT_STATE_FAILED;
const USER = { username: 'fleet', password: 'pw-that-must-never-show-3141' };
/** Basic-auth credentials as the API carries them. */
const basic = (u: { username: string; password: string }) => ({
  ...u,
  bearerToken: '',
  sshPrivateKey: '',
  knownHosts: '',
});

describe('agent: Helm charts from an OCI registry with basic auth', () => {
  let h: AgentHarness;
  let registry: RegistryEnv;
  const tmp = tempDir('gitfleet-helm-oci-');
  const remote = new OciRemoteRepository();
  let url: string;

  beforeAll(async () => {
    registry = await startRegistry({ auth: USER });
    url = `oci://${registry.host}/charts/greeter`;
    h = await AgentHarness.start();
    await h.hub.createBus();
    await h.startAgent({ helm: renderTool('helm') });
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
    await registry?.stop();
    tmp.remove();
  }, 60_000);

  /** helm with its own cache and config under the test's temp dir (nothing in $HOME). */
  function helm(...args: string[]): string {
    return execFileSync(renderTool('helm'), args, {
      cwd: tmp.dir,
      encoding: 'utf8',
      stdio: 'pipe',
      env: {
        PATH: process.env.PATH,
        HELM_CACHE_HOME: join(tmp.dir, 'helm-cache'),
        HELM_CONFIG_HOME: join(tmp.dir, 'helm-config'),
        HELM_DATA_HOME: join(tmp.dir, 'helm-data'),
      },
    });
  }

  /** Packages the "greeter" chart at `version` and pushes it with `helm push`. */
  function pushChart(version: string, greeting: string): void {
    const chart = join(tmp.dir, `greeter-src-${version}`, 'greeter');
    mkdirSync(join(chart, 'templates'), { recursive: true });
    writeFileSync(join(chart, 'Chart.yaml'), `apiVersion: v2\nname: greeter\nversion: ${version}\n`);
    writeFileSync(join(chart, 'values.yaml'), `greeting: ${greeting}\ncolor: red\n`);
    writeFileSync(
      join(chart, 'templates', 'config.yaml'),
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: {{ .Release.Name }}-greeter',
        'data:',
        '  greeting: {{ .Values.greeting | quote }}',
        '  color: {{ .Values.color | quote }}',
        '  chart: {{ .Chart.Version | quote }}',
        '  kube: {{ .Capabilities.KubeVersion.Version | quote }}',
        '',
      ].join('\n'),
    );
    helm('package', chart, '--destination', tmp.dir);
    const pkg = join(tmp.dir, `greeter-${version}.tgz`);
    helm(
      'push',
      pkg,
      `oci://${registry.host}/charts`,
      '--plain-http',
      '--username',
      USER.username,
      '--password',
      USER.password,
    );
  }

  const greeter = (revision: string, credentials = USER): DeepPartial<DesiredAssignment> => ({
    ...h.web('0'.repeat(40)),
    name: 'greeter',
    source: {
      type: 'oci',
      url,
      revision,
      digest: revision.slice(revision.indexOf('sha256:')),
      commit: '',
      credentials,
    },
    path: '.',
    renderer: 'auto',
    helm: { releaseName: 'hello', valuesFiles: [], set: ['color=green'] },
  });

  async function publish(a: DeepPartial<DesiredAssignment>, state: AssignmentState) {
    const after = h.hub.statuses.length;
    await h.hub.publish(h.desired(a));
    const s = await h.hub.waitForStatus(
      (x) => x.assignment === 'greeter' && x.state === state && x.desiredRevision === a.source?.revision,
      { after },
    );
    expect(s.message).not.toContain('\n');
    expect(s.message).not.toContain(USER.password);
    return s;
  }

  let good = '';

  it('resolves a SemVer range over helm-pushed chart versions and applies the chart pulled by digest', async () => {
    pushChart('0.1.0', 'hello');
    pushChart('0.1.1+build.2', 'hi');
    pushChart('1.0.0', 'bonjour');

    const revision = await remote.resolve(url, { kind: 'semver', name: '~0.1.0' }, basic(USER));
    expect(revision).toMatch(/^0\.1\.1_build\.2@sha256:[0-9a-f]{64}$/);

    const s = await publish(greeter(revision), READY);
    expect(s.message).toContain('applied revision');
    const cm = await h.configMap('team-a', 'hello-greeter');
    // rendered for this cluster: .Capabilities.KubeVersion is the test API server's version
    expect(cm?.data).toEqual({
      greeting: 'hi',
      color: 'green',
      chart: '0.1.1+build.2',
      kube: `v${K8S_VERSION}`,
    });
    good = revision;
  });

  it('fails clearly without credentials and with a wrong password, never showing the password', async () => {
    await expect(remote.resolve(url, { kind: 'semver', name: '^1' })).rejects.toThrow(
      'authentication required at',
    );
    const wrong = { username: USER.username, password: 'not-the-password-2718' };
    const refused = remote.resolve(url, { kind: 'tag', name: '1.0.0' }, basic(wrong));
    await expect(refused).rejects.toThrow('the registry rejected the credentials');
    await expect(refused).rejects.not.toThrow(wrong.password);

    const v1 = await remote.resolve(url, { kind: 'tag', name: '1.0.0' }, basic(USER));
    const s = await publish(greeter(v1, wrong), FAILED);
    expect(s.message).toContain('the registry rejected the credentials');
    expect(s.message).not.toContain(wrong.password);
    expect(s.appliedRevision).toBe(good);
    expect((await h.configMap('team-a', 'hello-greeter'))?.data?.greeting).toBe('hi');
  });

  it('refuses a chart package whose entries are not all under one chart directory', async () => {
    const src = join(tmp.dir, 'two-tops');
    mkdirSync(join(src, 'greeter', 'templates'), { recursive: true });
    mkdirSync(join(src, 'other'), { recursive: true });
    writeFileSync(join(src, 'greeter', 'Chart.yaml'), 'apiVersion: v2\nname: greeter\nversion: 2.0.0\n');
    writeFileSync(join(src, 'other', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n');
    const layer = execFileSync('tar', ['-czf', '-', '-C', src, 'greeter', 'other']);
    const client = new RegistryClient(parseOciUrl(url), { credentials: USER });
    const blob = await client.pushBlob(layer);
    const config = await client.pushBlob(Buffer.from('{"name":"greeter","version":"2.0.0"}'));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: HELM_CONFIG, digest: config.digest, size: config.size },
        layers: [{ mediaType: HELM_CHART_CONTENT, digest: blob.digest, size: blob.size }],
      }),
    );
    const digest = await client.pushManifest('2.0.0', manifest, OCI_MANIFEST);
    const s = await publish(greeter(`2.0.0@${digest}`), FAILED);
    expect(s.message).toContain(`"other/" is outside the chart's directory "greeter"`);
    expect(s.appliedRevision).toBe(good);
    await expect(h.configMap('team-a', 'x')).resolves.toBeUndefined();
  });
});
