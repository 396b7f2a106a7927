// Hostile manifests through the real agent (real kube-apiserver, nats-server and git server; the
// test plays the hub): malformed and oversized YAML, alias bombs, duplicate keys, too many files
// or objects, an oversized repo, links out of the checkout, paths that climb out of it. Each case
// asserts a clear error naming the file and the limit (and the flag that raises it), that nothing
// of that revision was applied (the previous revision stays, zero writes), and that nothing
// leaked (no file content, no credential in the message).
import { randomBytes } from 'node:crypto';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AssignmentState,
  Reason,
  formatGitRevision,
  type AssignmentStatus,
  type DesiredAssignment,
} from '../../proto/index.js';
import { AgentHarness, GIT_PASSWORD, WATCHED_RESOURCES, cm } from '../integration/agent/agent-harness.js';
import { eventually } from '../env/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Small limits, so that each case crosses one of them quickly. */
const LIMITS = {
  maxSourceBytes: 20 * MiB,
  maxFiles: 40,
  maxObjects: 30,
  maxDocumentBytes: 256 * KiB,
  maxRenderedBytes: 512 * KiB,
  maxYamlAliases: 100,
};
const SETTINGS_GOOD = 'one';

describe('hostile manifests', () => {
  let h: AgentHarness;
  let good: string;

  beforeAll(async () => {
    h = await AgentHarness.start();
    await h.startWithHeadApplied({ limits: LIMITS });
    good = await h.repo.head();
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
  }, 60_000);

  /**
   * Commits `files` (and links made by `links` in the work tree) on top of the good revision,
   * together with a changed ConfigMap; publishes it (with `extra` assignment fields); waits for its
   * failure; checks that nothing of it was applied; then removes the files again.
   */
  async function refused(
    files: Record<string, string>,
    opts: { links?: Record<string, string>; extra?: Partial<DesiredAssignment> } = {},
  ): Promise<AssignmentStatus> {
    for (const [link, target] of Object.entries(opts.links ?? {}))
      symlinkSync(target, join(h.repo.dir, link));
    const bad = await h.repo.commit({
      ...files,
      'apps/config.yaml': `${cm('settings', 'changed-by-bad-revision')}---\n${cm('flags', 'on')}`,
    });
    try {
      const writes = await h.kube.writeRequests(WATCHED_RESOURCES);
      const before = h.hub.statuses.length;
      await h.hub.publish(h.desired(h.web(bad, opts.extra)));
      const status = await h.hub.waitForStatus(
        (s) => s.state === AssignmentState.ASSIGNMENT_STATE_FAILED && s.desiredRevision.endsWith(bad),
        { after: before },
      );
      // stalled: retrying the same revision cannot help
      expect(status.conditions).toEqual(
        expect.arrayContaining([expect.objectContaining({ type: 'Stalled', status: 'True' })]),
      );
      // nothing of that revision was applied; the last good revision stays
      expect(status.appliedRevision).toBe(formatGitRevision('main', good));
      expect((await h.configMap('team-a', 'settings'))?.data).toEqual({ value: SETTINGS_GOOD });
      expect(await h.kube.writeRequests(WATCHED_RESOURCES)).toBe(writes);
      // nothing leaked
      expect(status.message).not.toContain(GIT_PASSWORD);
      expect(status.message.length).toBeLessThan(600);
      return status;
    } finally {
      const cleanup: Record<string, string | null> = {
        'apps/config.yaml': `${cm('settings', SETTINGS_GOOD)}---\n${cm('flags', 'on')}`,
      };
      for (const f of [...Object.keys(files), ...Object.keys(opts.links ?? {})]) cleanup[f] = null;
      await h.repo.commit(cleanup);
    }
  }

  const flag = (name: string) => `raise it with gitfleet agent ${name})`;

  it('malformed YAML: BuildFailed naming file, line and column', async () => {
    const s = await refused({
      'apps/broken.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x: "y\n',
    });
    expect(s.reason).toBe(Reason.BuildFailed);
    expect(s.message).toMatch(/^apps\/broken\.yaml: YAML syntax error at line \d+, column \d+: /);
  });

  it('a huge document: refused before parsing, naming file, line and --max-document-bytes', async () => {
    const s = await refused({ 'apps/huge.yaml': cm('huge', 'SECRETISH'.repeat(40_000)) });
    expect(s.reason).toBe(Reason.BuildFailed);
    expect(s.message).toMatch(
      /^apps\/huge\.yaml \(the YAML document at line 1\): the document has \d+ bytes/,
    );
    expect(s.message).toContain(flag('--max-document-bytes'));
    expect(s.message).not.toContain('SECRETISH');
  });

  it('an alias bomb ("billion laughs"): refused quickly, naming --max-yaml-aliases', async () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const [p, n] = [String.fromCharCode(96 + i), String.fromCharCode(97 + i)];
      lines.push(`${n}: &${n} [${Array(9).fill(`*${p}`).join(',')}]`);
    }
    const bomb = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\nx:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
    const s = await refused({ 'apps/bomb.yaml': bomb });
    expect(s.reason).toBe(Reason.BuildFailed);
    expect(s.message).toBe(
      `apps/bomb.yaml (document 1): YAML aliases expand to more nodes, more than the limit of 100 (maxYamlAliases; ${flag('--max-yaml-aliases')}`,
    );
  });

  it('duplicate keys: BuildFailed naming file, key and line', async () => {
    const s = await refused({
      'apps/dup.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\ndata:\n  a: "1"\n  a: "2"\n',
    });
    expect(s.reason).toBe(Reason.BuildFailed);
    expect(s.message).toBe('apps/dup.yaml: duplicate key "a" at line 7, column 3');
  });

  it('too many files under the path: naming the path and --max-files', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < LIMITS.maxFiles + 5; i++) files[`apps/many/f${i}.yaml`] = cm(`f${i}`, 'x');
    const s = await refused(files);
    expect(s.reason).toBe(Reason.BuildFailed);
    expect(s.message).toBe(
      `apps: the path holds more files and directories, more than the limit of ${LIMITS.maxFiles} (maxFiles; ${flag('--max-files')}`,
    );
  });

  it('too many objects: naming the file and --max-objects', async () => {
    const docs = Array.from({ length: LIMITS.maxObjects + 5 }, (_, i) => cm(`o${i}`, 'x')).join('---\n');
    const s = await refused({ 'apps/objects.yaml': docs });
    expect(s.reason).toBe(Reason.BuildFailed);
    expect(s.message).toMatch(/^apps\/objects\.yaml \(document \d+\): the revision has more objects/);
    expect(s.message).toContain(flag('--max-objects'));
  });

  it('too many rendered bytes: naming the file and --max-rendered-bytes', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 4; i++) files[`apps/big-${i}.yaml`] = cm(`big-${i}`, 'y'.repeat(200 * KiB));
    const s = await refused(files);
    expect(s.reason).toBe(Reason.BuildFailed);
    expect(s.message).toMatch(/^apps\/big-\d\.yaml \(document 1\): the revision renders to more bytes/);
    expect(s.message).toContain(flag('--max-rendered-bytes'));
  });

  it('an oversized repository: ArtifactFailed naming the source and --max-source-bytes', async () => {
    // random bytes do not compress: the download itself is large
    const s = await refused({ 'blobs/random.bin': randomBytes(24 * MiB).toString('base64') });
    expect(s.reason).toBe(Reason.ArtifactFailed);
    expect(s.message).toMatch(
      /^source http:\/\/127\.0\.0\.1:\d+\/apps\.git@[0-9a-f]{12}: the fetched repository has/,
    );
    expect(s.message).toContain(flag('--max-source-bytes'));
  }, 180_000);

  it('a symlink to /etc/passwd: refused naming the link, no content', async () => {
    const s = await refused({}, { links: { 'apps/passwd.yaml': '/etc/passwd' } });
    expect(s.reason).toBe(Reason.BuildFailed);
    expect(s.message).toBe(
      'apps/passwd.yaml: symbolic link points outside the repository (or nowhere); links must stay inside the checkout',
    );
    expect(s.message).not.toMatch(/root:/);
  });

  it("a symlink to the agent's ServiceAccount token and to its kubeconfig: refused, no content", async () => {
    let s = await refused(
      {},
      { links: { 'apps/token.yaml': '/var/run/secrets/kubernetes.io/serviceaccount/token' } },
    );
    expect(s.message).toMatch(/^apps\/token\.yaml: symbolic link points outside the repository/);
    s = await refused({}, { links: { 'apps/kubeconfig.yaml': h.kube.kubeconfigPath } });
    expect(s.message).toMatch(/^apps\/kubeconfig\.yaml: symbolic link points outside the repository/);
    expect(s.message).not.toMatch(/client-key|token:|certificate/);
  });

  it('a symlink climbing out through "..": refused naming the link', async () => {
    const s = await refused({}, { links: { 'apps/up.yaml': '../../../../../../../../etc/hostname' } });
    expect(s.message).toMatch(/^apps\/up\.yaml: symbolic link points outside the repository/);
  });

  // the agent checks a desired set's paths before it reads anything (proto/contract/validation.ts):
  // a set with such a path is refused whole, the last good set stays, the reason goes with the heartbeat
  it.each([
    ['with ".."', 'apps/../../..', 'must not contain ".."'],
    ['that is absolute', '/etc', 'must be relative to the repo root'],
  ])(
    'an assignment path %s: the desired set is refused before anything is read',
    async (_what, path, why) => {
      const good = h.agent!.desired().generation;
      const beats = h.hub.heartbeats.length;
      await h.hub.publish(h.desired(h.web(await h.repo.head(), { path })));
      const hb = await eventually(() =>
        h.hub.heartbeats.slice(beats).find((b) => b.desiredSetError.includes('.path')),
      );
      expect(hb.desiredSetError).toContain(why);
      expect(h.agent!.desired().generation).toBe(good);
      expect(await h.configMap('team-a', 'settings')).toBeDefined();
    },
  );

  it('a 15 MB manifest: refused by the document limit, the agent stays responsive', async () => {
    const lines: string[] = [];
    for (let size = 0, i = 0; size < 15 * MiB; i++) {
      const line = `  key-${i}: "${'x'.repeat(200)}"\n`;
      lines.push(line);
      size += line.length;
    }
    const started = Date.now();
    const s = await refused({
      'apps/big.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n${lines.join('')}`,
    });
    expect(s.reason).toBe(Reason.BuildFailed);
    expect(s.message).toMatch(
      /^apps\/big\.yaml \(the YAML document at line 1\): the document has \d{8} bytes/,
    );
    expect(Date.now() - started).toBeLessThan(60_000);
    // and a good revision after it applies
    const next = await h.repo.commit({ 'apps/after.yaml': cm('after', 'ok') });
    const before = h.hub.statuses.length;
    await h.hub.publish(h.desired(h.web(next)));
    await h.ready(next, before);
    expect((await h.configMap('team-a', 'after'))?.data).toEqual({ value: 'ok' });
  }, 180_000);
});
