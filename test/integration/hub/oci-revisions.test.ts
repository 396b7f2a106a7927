// OCI repos on the real hub against Debian's docker-registry on loopback: a tag and a SemVer
// range resolve to the manifest digest ("<tag>@sha256:<hex>"), a pinned digest stays, an
// unknown tag fails with a clear message, and the digest reaches the cluster's desired set.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pushArtifact } from '../../../lib/oci/artifact.js';
import { startNats, type NatsEnv } from '../../env/index.js';
import { startRegistry, type RegistryEnv } from '../../env/registry.js';
import { startTestHub, tempDir, type TestHub } from './harness.js';

describe('OCI repo resolution', () => {
  let nats: NatsEnv | undefined;
  let registry: RegistryEnv | undefined;
  let t: TestHub | undefined;
  const tmp = tempDir('gitfleet-hub-oci-');

  beforeAll(async () => {
    nats = await startNats();
    registry = await startRegistry();
    t = await startTestHub({ natsUrl: nats.url, db: `${tmp.dir}/hub.db` });
    await t.client.tenants.createTenant({ tenant: { name: 'team-a', namespaces: ['team-a'] } });
  });

  afterAll(async () => {
    await t?.stop();
    await registry?.stop();
    await nats?.destroy();
    tmp.remove();
  });

  async function push(url: string, tag: string, value: string): Promise<string> {
    const dir = join(tmp.dir, `${tag}-${value}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'cm.yaml'),
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  v: ${value}\n`,
    );
    return pushArtifact({ dir, url, tag });
  }

  it('resolves a tag, a SemVer range and a pinned digest', async () => {
    const url = `oci://${registry!.host}/team-a/app`;
    const d1 = await push(url, 'v1.0.0', 'one');
    const d2 = await push(url, 'v1.2.0', 'two');
    await push(url, 'v2.0.0', 'three');

    const byTag = await t!.client.repos.createRepo({
      repo: { tenant: 'team-a', name: 'by-tag', url, tag: 'v1.0.0' },
    });
    expect(byTag).toMatchObject({ type: 'oci', revision: `v1.0.0@${d1}`, resolveError: '' });

    const byRange = await t!.client.repos.createRepo({
      repo: { tenant: 'team-a', name: 'by-range', url, semver: '^1.0.0' },
    });
    expect(byRange).toMatchObject({ type: 'oci', semver: '^1.0.0', revision: `v1.2.0@${d2}` });

    // a new matching tag moves the range on ResolveRepo
    const d3 = await push(url, 'v1.3.0', 'four');
    const moved = await t!.client.repos.resolveRepo({ tenant: 'team-a', name: 'by-range' });
    expect(moved.revision).toBe(`v1.3.0@${d3}`);

    const pinned = await t!.client.repos.createRepo({
      repo: { tenant: 'team-a', name: 'pinned', url, digest: d1 },
    });
    expect(pinned).toMatchObject({ digest: d1, revision: d1 });
  });

  it('fails clearly for an unknown tag, a range nothing matches, and a git flag', async () => {
    const url = `oci://${registry!.host}/team-a/app`;
    const unknown = await t!.client.repos.createRepo({
      repo: { tenant: 'team-a', name: 'unknown', url, tag: 'v9.9.9' },
    });
    expect(unknown.revision).toBe('');
    expect(unknown.resolveError).toBe(`repo "team-a/unknown": tag "v9.9.9" not found at ${url}`);

    const none = await t!.client.repos.createRepo({
      repo: { tenant: 'team-a', name: 'none', url, semver: '>=5.0.0' },
    });
    expect(none.resolveError).toContain(`no tag matches semver ">=5.0.0" at ${url} (newest tags: "v2.0.0"`);

    await expect(
      t!.client.repos.createRepo({ repo: { tenant: 'team-a', name: 'bad', url, branch: 'main' } }),
    ).rejects.toThrow('repo.branch: an OCI repo has no branch');
  });

  it('resolves behind basic auth with the repo credentials, says so without them, and never returns the password', async () => {
    const user = { username: 'reader', password: 'oci-secret-4669' };
    const locked = await startRegistry({ auth: user });
    try {
      const url = `oci://${locked.host}/team-a/app`;
      const dir = join(tmp.dir, 'locked');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n');
      const digest = await pushArtifact({ dir, url, tag: 'v1.0.0', credentials: user });

      const withCreds = await t!.client.repos.createRepo({
        repo: { tenant: 'team-a', name: 'locked', url, semver: '^1', credentials: user },
      });
      expect(withCreds).toMatchObject({
        revision: `v1.0.0@${digest}`,
        resolveError: '',
        hasCredentials: true,
      });
      expect(JSON.stringify(withCreds)).not.toContain(user.password);

      const without = await t!.client.repos.createRepo({
        repo: { tenant: 'team-a', name: 'locked-open', url, tag: 'v1.0.0' },
      });
      expect(without.revision).toBe('');
      expect(without.resolveError).toContain('authentication required at');

      const wrong = await t!.client.repos.createRepo({
        repo: {
          tenant: 'team-a',
          name: 'locked-wrong',
          url,
          tag: 'v1.0.0',
          credentials: { username: 'reader', password: 'not-it-9931' },
        },
      });
      expect(wrong.resolveError).toContain('the registry rejected the credentials');
      expect(wrong.resolveError).not.toContain('not-it-9931');
    } finally {
      await locked.stop();
    }
  });
});
