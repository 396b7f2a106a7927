// Proves the test environment is real: the servers behave as a user's would.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile as execFileCb } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import {
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import {
  eventually,
  startGit,
  startKube,
  startNats,
  startRegistry,
  type GitEnv,
  type KubeEnv,
  type NatsEnv,
  type RegistryEnv,
} from './index.js';
import { widget, widgetCrd } from '../fixtures/widget-crd.js';

// async: the git server runs in this process, a synchronous child would block it
const execFile = promisify(execFileCb);

function errorCode(err: unknown): number | undefined {
  const e = err as { code?: number; statusCode?: number; body?: { code?: number } };
  return e.code ?? e.statusCode ?? e.body?.code;
}

describe('kubernetes control plane', () => {
  let kube: KubeEnv;
  let kc: KubeConfig;
  beforeAll(async () => {
    kube = await startKube();
    kc = kube.kubeConfig();
  });
  afterAll(async () => {
    await kube?.stop();
  });

  const deployment = (namespace: string): KubernetesObject & Record<string, unknown> => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
      },
    },
  });

  async function createNamespace(name: string): Promise<void> {
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  }

  it('server-side applies a Deployment with field manager gitfleet', async () => {
    await createNamespace('ssa');
    const client = KubernetesObjectApi.makeApiClient(kc);
    const applied = await client.patch(
      deployment('ssa'),
      undefined,
      undefined,
      'gitfleet',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect(applied.metadata?.managedFields?.map((f) => [f.manager, f.operation])).toContainEqual([
      'gitfleet',
      'Apply',
    ]);
    // a server-side dry run answers with the result but persists nothing
    const changed = { ...deployment('ssa'), spec: { ...(deployment('ssa').spec as object), replicas: 5 } };
    const dry = await client.patch(
      changed,
      undefined,
      'All',
      'gitfleet',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect((dry as { spec?: { replicas?: number } }).spec?.replicas).toBe(5);
    const live = await client.read({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'ssa' },
    });
    expect((live as { spec?: { replicas?: number } }).spec?.replicas).toBe(2);
  });

  it('refuses an impersonated ServiceAccount outside the namespace it is bound in (403)', async () => {
    await createNamespace('team-a');
    await createNamespace('team-b');
    await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccount({
      namespace: 'team-a',
      body: { metadata: { name: 'reconciler' } },
    });
    await kc.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
      namespace: 'team-a',
      body: {
        metadata: { name: 'reconciler-admin' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
        subjects: [{ kind: 'ServiceAccount', name: 'reconciler', namespace: 'team-a' }],
      },
    });
    const impersonated = new KubeConfig();
    impersonated.loadFromString(kc.exportConfig());
    const user = impersonated.getCurrentUser()!;
    impersonated.users = impersonated.users.map((u) =>
      u.name === user.name ? { ...u, impersonateUser: 'system:serviceaccount:team-a:reconciler' } : u,
    );
    const client = KubernetesObjectApi.makeApiClient(impersonated);
    const ok = await client.patch(
      deployment('team-a'),
      undefined,
      undefined,
      'gitfleet',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect(ok.metadata?.namespace).toBe('team-a');
    let code: number | undefined;
    try {
      await client.patch(
        deployment('team-b'),
        undefined,
        undefined,
        'gitfleet',
        true,
        PatchStrategy.ServerSideApply,
      );
    } catch (err) {
      code = errorCode(err);
    }
    expect(code).toBe(403);
  });

  it('serves custom resources of an applied CRD', async () => {
    const client = KubernetesObjectApi.makeApiClient(kc);
    const crd = widgetCrd;
    await client.create(crd);
    await createNamespace('crs');
    const w = widget('crs', 'w', { size: '3' });
    // the CRD is served once established; decoding a custom resource must not crash the server
    const applied = await eventually(
      async () => {
        await client.create(w).catch((err: unknown) => {
          if (errorCode(err) !== 409) throw err;
        });
        return client.read(w);
      },
      { timeoutMs: 30_000 },
    );
    expect((applied as unknown as { spec: { size: string } }).spec.size).toBe('3');
  });

  it('completes a namespace deletion (kube-controller-manager runs)', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await createNamespace('short-lived');
    await core.createNamespacedConfigMap({
      namespace: 'short-lived',
      body: { metadata: { name: 'cm' }, data: { a: 'b' } },
    });
    await core.deleteNamespace({ name: 'short-lived' });
    await eventually(
      async () => {
        try {
          await core.readNamespace({ name: 'short-lived' });
          return false;
        } catch (err) {
          return errorCode(err) === 404;
        }
      },
      { timeoutMs: 60_000 },
    );
  });
});

describe('nats-server with JetStream', () => {
  let nats: NatsEnv;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.destroy();
  });

  it('delivers a KV put to a watcher, also after the server restarted', async () => {
    const kv = await new Kvm(jetstream(nc)).create('env-test', { history: 1 });
    const seen: string[] = [];
    const watch = await kv.watch({ key: 'cluster-1' });
    void (async () => {
      for await (const e of watch) if (e.operation === 'PUT') seen.push(e.string());
    })();
    await kv.put('cluster-1', 'one');
    await eventually(() => seen.includes('one'));

    await nats.restart();
    await eventually(async () => {
      await kv.put('cluster-1', 'two');
      return true;
    });
    await eventually(() => seen.includes('two'), { timeoutMs: 30_000 });
    watch.stop();
    expect((await kv.get('cluster-1'))?.string()).toBe('two');
  });
});

describe('git server', () => {
  let git: GitEnv;
  let tmp: string;
  beforeAll(async () => {
    git = await startGit({ username: 'fleet', password: 's3cret' });
    tmp = mkdtempSync(join(tmpdir(), 'gitfleet-env-test-'));
  });
  afterAll(async () => {
    await git?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('serves a repo that clones over smart HTTP with basic auth, and refuses without', async () => {
    const repo = await git.createRepo('apps', { 'app/cm.yaml': 'kind: ConfigMap\n' });
    const second = await repo.commit({ 'app/two.yaml': 'kind: Secret\n' }, 'second');
    const env = { ...process.env, GIT_TERMINAL_PROMPT: '0' };
    const authed = repo.url.replace('http://', 'http://fleet:s3cret@');
    await execFile('git', ['clone', '--quiet', authed, join(tmp, 'clone')], { env });
    expect(readFileSync(join(tmp, 'clone', 'app', 'two.yaml'), 'utf8')).toBe('kind: Secret\n');
    expect((await execFile('git', ['-C', join(tmp, 'clone'), 'rev-parse', 'HEAD'])).stdout.trim()).toBe(
      second,
    );
    await expect(execFile('git', ['clone', '--quiet', repo.url, join(tmp, 'anon')], { env })).rejects.toThrow(
      /401|Authentication|could not read Username/,
    );
  });
});

describe('OCI registry', () => {
  let registry: RegistryEnv;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('returns a pushed blob byte-identical', async () => {
    const blob = randomBytes(64 * 1024);
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const start = await fetch(`${registry.url}/v2/env/test/blobs/uploads/`, { method: 'POST' });
    expect(start.status).toBe(202);
    const location = new URL(start.headers.get('location')!, registry.url);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: blob,
    });
    expect(put.status).toBe(201);
    const got = Buffer.from(await (await fetch(`${registry.url}/v2/env/test/blobs/${digest}`)).arrayBuffer());
    expect(got.equals(blob)).toBe(true);
  });
});
