// OCI artifacts as a source, end to end: an artifact pushed with the CLI's code to Debian's
// docker-registry on loopback, resolved by the hub's OCI remote, pulled by digest by the agent
// and applied to the real kube-apiserver; and the artifacts the agent must refuse (a tampered
// blob, a layer climbing out with '..', a symbolic link out), each failing with the message a
// user sees while the last good revision stays applied.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssignmentState, type DeepPartial, type DesiredAssignment } from '../../../proto/index.js';
import { pushArtifact, pushLayer } from '../../../lib/oci/artifact.js';
import { OciRemoteRepository } from '../../../hub/repos/oci-remote.repository.js';
import { startRegistry, type RegistryEnv } from '../../env/registry.js';
import { tempDir } from '../hub/harness.js';
import { AgentHarness, cm } from './agent-harness.js';

const READY = AssignmentState.ASSIGNMENT_STATE_READY;
const FAILED = AssignmentState.ASSIGNMENT_STATE_FAILED;

describe('agent: OCI artifacts', () => {
  let h: AgentHarness;
  let registry: RegistryEnv;
  const tmp = tempDir('gitfleet-agent-oci-');
  const remote = new OciRemoteRepository();
  let url: string;

  beforeAll(async () => {
    registry = await startRegistry();
    url = `oci://${registry.host}/fleet/apps`;
    h = await AgentHarness.start();
    await h.hub.createBus();
    await h.startAgent();
  });

  afterAll(async () => {
    await h?.stop();
    await registry?.stop();
    tmp.remove();
  });

  /** A directory of files under the test's temp dir. */
  function dir(name: string, files: Record<string, string>): string {
    const root = join(tmp.dir, name);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return root;
  }

  const web = (revision: string): DeepPartial<DesiredAssignment> => ({
    ...h.web('0'.repeat(40)),
    source: { type: 'oci', url, revision, digest: revision.slice(revision.indexOf('sha256:')), commit: '' },
    path: 'apps',
  });

  async function publish(revision: string, state: AssignmentState) {
    const after = h.hub.statuses.length;
    await h.hub.publish(h.desired(web(revision)));
    const s = await h.hub.waitForStatus(
      (x) => x.assignment === 'web' && x.state === state && x.desiredRevision === revision,
      { after },
    );
    expect(s.message).not.toContain('\n');
    return s;
  }

  let good = '';

  it('applies an artifact pushed with `push artifact`, resolved by tag and by SemVer range to its digest', async () => {
    const d1 = await pushArtifact({
      dir: dir('v1', { 'apps/config.yaml': cm('settings', 'one'), 'README.md': '# docs\n' }),
      url,
      tag: 'v1.0.0',
    });
    const d2 = await pushArtifact({
      dir: dir('v11', { 'apps/config.yaml': cm('settings', 'two') }),
      url,
      tag: 'v1.1.0',
    });
    await pushArtifact({
      dir: dir('v2', { 'apps/config.yaml': cm('settings', 'three') }),
      url,
      tag: 'v2.0.0',
    });
    expect(await remote.resolve(url, { kind: 'tag', name: 'v1.0.0' })).toBe(`v1.0.0@${d1}`);
    const revision = await remote.resolve(url, { kind: 'semver', name: '>=1.0.0 <2.0.0' });
    expect(revision).toBe(`v1.1.0@${d2}`);
    await expect(remote.resolve(url, { kind: 'tag', name: 'v9' })).rejects.toThrow(
      `tag "v9" not found at ${url}`,
    );

    const s = await publish(revision, READY);
    expect(s.message).toContain('applied revision');
    expect((await h.configMap('team-a', 'settings'))?.data).toEqual({ value: 'two' });
    good = revision;
  });

  it('refuses a blob whose content does not match its digest, naming the digest', async () => {
    const digest = await pushArtifact({
      dir: dir('tampered', { 'apps/config.yaml': cm('settings', 'evil') }),
      url,
      tag: 'tampered',
    });
    const manifest = JSON.parse(readFileSync(blobPath(digest), 'utf8')) as { layers: { digest: string }[] };
    const layer = manifest.layers[0].digest;
    writeFileSync(blobPath(layer), 'not the layer that was pushed');
    const s = await publish(`tampered@${digest}`, FAILED);
    expect(s.message).toContain(`blob ${layer} of ${url} does not match its digest`);
    expect((await h.configMap('team-a', 'settings'))?.data).toEqual({ value: 'two' });
  });

  it("refuses a layer with '..' and one with a symbolic link out of the artifact", async () => {
    const src = dir('escape', { 'cm.yaml': cm('escaped', 'x') });
    const climbing = execFileSync('tar', [
      '-czf',
      '-',
      '-P',
      '--transform',
      's,^,../,',
      '-C',
      src,
      'cm.yaml',
    ]);
    const d1 = await pushLayer({ url, tag: 'climbing' }, climbing);
    const s1 = await publish(`climbing@${d1}`, FAILED);
    expect(s1.message).toContain(`"../cm.yaml" climbs out with '..'`);

    const linked = join(tmp.dir, 'linked');
    mkdirSync(join(linked, 'apps'), { recursive: true });
    symlinkSync('/etc/passwd', join(linked, 'apps', 'passwd.yaml'));
    const d2 = await pushLayer({ url, tag: 'linked' }, execFileSync('tar', ['-czf', '-', '-C', linked, '.']));
    const s2 = await publish(`linked@${d2}`, FAILED);
    expect(s2.message).toContain(
      `"./apps/passwd.yaml" is a symbolic link to "/etc/passwd", outside the artifact`,
    );
    expect((await h.configMap('team-a', 'settings'))?.data).toEqual({ value: 'two' });
    expect(await h.configMap('team-a', 'escaped')).toBeUndefined();
  });

  it('refuses a digest the registry does not have', async () => {
    const missing = `sha256:${'e'.repeat(64)}`;
    const s = await publish(`v9@${missing}`, FAILED);
    expect(s.message).toContain(`manifest ${missing} not found at ${url}`);
    expect(good).not.toBe('');
  });

  function blobPath(digest: string): string {
    const hex = digest.slice('sha256:'.length);
    return join(registry.dataDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
  }
});
