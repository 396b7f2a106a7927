// The applier and the git source on their own, against a real kube-apiserver and git server.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reason } from '../../../proto/index.js';
import { createLogger } from '../../../lib/log.js';
import { Applier } from '../../../agent/apply/ssa.js';
import { ReconcileError } from '../../../agent/errors.js';
import { KubeCluster } from '../../../agent/kube/kube-client.js';
import type { ManifestObject } from '../../../agent/kube/objects.js';
import { GitSource } from '../../../agent/sources/git/git-source.js';
import { startGit, startKube, type GitEnv, type KubeEnv } from '../../env/index.js';
import { widget, widgetCrd, WIDGET_API_VERSION } from '../../fixtures/widget-crd.js';

const log = createLogger('agent', process.env.GITFLEET_LOG_LEVEL ?? 'warn');

describe('applier', () => {
  let kube: KubeEnv;
  let cluster: KubeCluster;

  beforeAll(async () => {
    kube = await startKube({ controllerManager: false });
    cluster = await KubeCluster.create({ kubeconfigPath: kube.kubeconfigPath });
  });
  afterAll(async () => {
    cluster?.close();
    await kube?.stop();
  });

  // a custom resource of the CRD in the same revision: applied after its CRD is established
  const crd = widgetCrd;
  const cr = (value: string) => widget('shop', 'w', { size: value, extra: { kept: true } });
  const items = (value: string) =>
    [
      crd,
      cr(value),
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'cfg', namespace: 'shop' },
        data: { a: value },
      },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'shop' } } },
    ].map((object, i) => ({ object: object as ManifestObject, file: `f${i}.yaml` }));

  it('applies a namespace and a CRD before what depends on them, and waits for the CRD', async () => {
    const applier = new Applier({ discovery: cluster.discovery, log });
    expect(await cluster.discovery.resource(WIDGET_API_VERSION, 'Widget')).toBeUndefined();
    const r = await applier.apply(cluster.asAgent(), items('1'));
    expect(r.failures).toEqual([]);
    const actions = r.changes.map((c) => `${c.ref.kind}:${c.action}`);
    // stage one first, in order; the rest after, concurrently
    expect(actions.slice(0, 2)).toEqual(['Namespace:created', 'CustomResourceDefinition:created']);
    expect(actions.slice(2).sort()).toEqual(['ConfigMap:created', 'Widget:created']);
    const w = await cluster
      .asAgent()
      .get({ apiVersion: WIDGET_API_VERSION, kind: 'Widget', namespace: 'shop', name: 'w' });
    expect(w?.spec).toEqual({ size: '1', extra: { kept: true } });
    // JSON names in the schema reach the server (client-node's typed models would drop them)
    const live = await cluster
      .asAgent()
      .get({ apiVersion: crd.apiVersion, kind: crd.kind, namespace: '', name: crd.metadata.name });
    const schema = (
      live?.spec as {
        versions: Array<{ schema: { openAPIV3Schema: { properties: { spec: Record<string, unknown> } } } }>;
      }
    ).versions[0].schema.openAPIV3Schema.properties.spec;
    expect(schema['x-kubernetes-preserve-unknown-fields']).toBe(true);
    // established, and discovery knows its kind right away
    expect(await cluster.discovery.resource(WIDGET_API_VERSION, 'Widget')).toMatchObject({
      name: 'widgets',
      namespaced: true,
    });

    const again = await applier.apply(cluster.asAgent(), items('1'));
    expect(again.changes.every((c) => c.action === 'unchanged')).toBe(true);
    const changed = await applier.apply(cluster.asAgent(), items('2'));
    expect(
      changed.changes
        .filter((c) => c.action !== 'unchanged')
        .map((c) => `${c.ref.kind}:${c.action}`)
        .sort(),
    ).toEqual(['ConfigMap:configured', 'Widget:configured']);
  });

  it('reports objects the server refuses, with the file, and applies the rest', async () => {
    const applier = new Applier({ discovery: cluster.discovery, log });
    const r = await applier.apply(cluster.asAgent(), [
      {
        object: { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g', namespace: 'shop' } },
        file: 'g.yaml',
      },
      {
        object: {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'bad', namespace: 'shop' },
          data: { k: 1 },
        },
        file: 'bad.yaml',
      },
      {
        object: {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'ok', namespace: 'shop' },
          data: { k: '1' },
        },
        file: 'ok.yaml',
      },
    ]);
    expect(r.changes.map((c) => `${c.ref.name}:${c.action}`)).toEqual(['ok:created']);
    expect(r.failures.map((f) => f.message)).toEqual([
      expect.stringMatching(/^apply ConfigMap shop\/bad \(from bad\.yaml\): .+/),
      'apply Gadget shop/g (from g.yaml): no matches for kind "Gadget" in version "example.com/v1" (is its CustomResourceDefinition installed?)',
    ]);
  });

  it('leaves an unchanged stringData Secret alone: zero writes on the second pass', async () => {
    const applier = new Applier({ discovery: cluster.discovery, log });
    const secret = (value: string) => [
      {
        object: {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'creds', namespace: 'shop' },
          stringData: { password: value, user: 'bot' },
          data: { extra: Buffer.from('x').toString('base64') },
        } as ManifestObject,
        file: 'secret.yaml',
      },
    ];
    expect((await applier.apply(cluster.asAgent(), secret('one'))).changes[0].action).toBe('created');
    const writes = await kube.writeRequests(['secrets']);
    const again = await applier.apply(cluster.asAgent(), secret('one'));
    expect(again.changes.map((c) => c.action)).toEqual(['unchanged']);
    expect(await kube.writeRequests(['secrets'])).toBe(writes);
    // a changed value is still applied
    expect((await applier.apply(cluster.asAgent(), secret('two'))).changes[0].action).toBe('configured');
    const live = await cluster
      .asAgent()
      .get({ apiVersion: 'v1', kind: 'Secret', namespace: 'shop', name: 'creds' });
    expect((live?.data as Record<string, string>).password).toBe(Buffer.from('two').toString('base64'));
  });
});

describe('git source', () => {
  let git: GitEnv;
  let cacheDir: string;
  const user = 'reader';
  const password = 'very-secret-pw';

  beforeAll(async () => {
    git = await startGit({ username: user, password });
    cacheDir = mkdtempSync(join(tmpdir(), 'gitfleet-git-cache-'));
  });
  afterAll(async () => {
    await git?.stop();
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });

  it('fetches a pinned commit once, serves it from the cache after, and keeps the last few', async () => {
    const repo = await git.createRepo('site', { 'a.yaml': 'x: 1\n' });
    const source = new GitSource({ cacheDir, log, keepPerRepo: 2 });
    const credentials = { username: user, password };
    const first = await repo.head();
    const c1 = await source.fetch({ url: repo.url, commit: first, credentials });
    expect(c1.fetched).toBe(true);
    expect(readdirSync(c1.dir).sort()).toEqual(['.gitfleet-complete', 'a.yaml']);
    c1.release();

    const served = git.requests();
    const again = await source.fetch({ url: repo.url, commit: first, credentials });
    expect(again.fetched).toBe(false);
    expect(git.requests()).toBe(served);
    // in use: survives eviction
    const commits = [];
    for (let i = 2; i <= 4; i++) {
      commits.push(await repo.commit({ 'a.yaml': `x: ${i}\n` }));
      (await source.fetch({ url: repo.url, commit: commits.at(-1)!, credentials })).release();
    }
    const kept = readdirSync(source.repoDir(repo.url)).sort();
    expect(kept).toEqual([first, ...commits.slice(-2)].sort());
    again.release();
  });

  it('fetches a commit that is no longer a branch tip, also over protocol v0', async () => {
    const repo = await git.createRepo('old-server', { 'a.yaml': 'x: 1\n' });
    const old = await repo.head();
    await repo.commit({ 'a.yaml': 'x: 2\n' });
    // over smart HTTP even v0 serves reachable commits by SHA; a server that refuses makes the
    // source fall back to a full fetch (exercised by the missing-commit case below)
    const source = new GitSource({ cacheDir, log, protocolVersion: 0 });
    const c = await source.fetch({ url: repo.url, commit: old, credentials: { username: user, password } });
    expect(c.fetched).toBe(true);
    expect(readFileSync(join(c.dir, 'a.yaml'), 'utf8')).toBe('x: 1\n');
    c.release();
  });

  it('fails with ArtifactFailed, without leaking the password, for bad credentials or a missing commit', async () => {
    const repo = await git.createRepo('private', { 'a.yaml': 'x: 1\n' });
    const source = new GitSource({ cacheDir, log });
    const head = await repo.head();
    const wrong = 'wrong-password-123';
    const err = await source
      .fetch({ url: repo.url, commit: head, credentials: { username: user, password: wrong } })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ReconcileError);
    expect(err.reason).toBe(Reason.ArtifactFailed);
    expect(err.message).toContain(repo.url);
    expect(err.message).not.toContain(wrong);
    expect(err.message).not.toContain(Buffer.from(`${user}:${wrong}`).toString('base64'));

    const missing = 'f'.repeat(40);
    const err2 = await source
      .fetch({ url: repo.url, commit: missing, credentials: { username: user, password } })
      .catch((e) => e);
    expect(err2.reason).toBe(Reason.ArtifactFailed);
    expect(err2.message).toContain(`commit ${missing} not found in ${repo.url}`);
    expect(err2.message).not.toContain(password);
  });
});
