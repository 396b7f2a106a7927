// The applier at scale on a real API server: 1,000 ConfigMaps applied cold, then again with
// nothing changed (which must cost no write at all), compared with `kubectl apply --server-side`.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createLogger } from '../../../proto/contract/log.js';
import { Applier } from '../../../agent/apply/ssa.js';
import { KubeCluster } from '../../../agent/kube/kube-client.js';
import type { ManifestObject } from '../../../agent/kube/objects.js';
import { startKube, type KubeEnv } from '../../env/index.js';

jest.setTimeout(300_000);

const N = Number(process.env.GITFLEET_SCALE_OBJECTS ?? 1000);

const configMaps = (ns: string, value: string): ManifestObject[] =>
  Array.from({ length: N }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `cm-${i}`, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'gitfleet' } },
    data: { index: String(i), value },
  }));

describe('applier at scale', () => {
  let kube: KubeEnv;
  let cluster: KubeCluster;
  let dir: string;
  const log = createLogger('agent', 'warn');
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    kube = await startKube({ controllerManager: false });
    cluster = await KubeCluster.create({ kubeconfigPath: kube.kubeconfigPath });
    dir = mkdtempSync(join(tmpdir(), 'gitfleet-scale-'));
    for (const ns of ['scale', 'kubectl']) {
      await cluster.asAgent().apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    }
  });

  afterAll(async () => {
    cluster?.close();
    await kube?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    console.log(`applier, ${N} ConfigMaps: ${JSON.stringify(timings)}`);
  });

  it(`applies ${N} objects cold, then again with zero writes`, async () => {
    const applier = new Applier({ discovery: cluster.discovery, log, concurrency: 16 });
    const items = configMaps('scale', 'one').map((object) => ({ object }));

    let t = Date.now();
    const cold = await applier.apply(cluster.asAgent(), items);
    timings.gitfleetColdMs = Date.now() - t;
    expect(cold.failures).toEqual([]);
    expect(cold.changes.filter((c) => c.action === 'created')).toHaveLength(N);

    const writes = await kube.writeRequests(['configmaps']);
    t = Date.now();
    const again = await applier.apply(cluster.asAgent(), items);
    timings.gitfleetUnchangedMs = Date.now() - t;
    expect(again.changes.filter((c) => c.action === 'unchanged')).toHaveLength(N);
    expect(await kube.writeRequests(['configmaps'])).toBe(writes);

    const changed = configMaps('scale', 'one');
    for (const o of changed.slice(0, 10)) (o.data as Record<string, string>).value = 'two';
    t = Date.now();
    const some = await applier.apply(
      cluster.asAgent(),
      changed.map((object) => ({ object })),
    );
    timings.gitfleetTenChangedMs = Date.now() - t;
    expect(some.changes.filter((c) => c.action === 'configured')).toHaveLength(10);
    expect(await kube.writeRequests(['configmaps'])).toBe(writes + 10);
  });

  it('compares with kubectl apply --server-side', () => {
    const file = join(dir, 'cms.yaml');
    writeFileSync(
      file,
      configMaps('kubectl', 'one')
        .map((o) => stringify(o))
        .join('---\n'),
    );
    const kubectl = (): number => {
      const t = Date.now();
      execFileSync('kubectl', ['--kubeconfig', kube.kubeconfigPath, 'apply', '--server-side', '-f', file], {
        stdio: 'pipe',
      });
      return Date.now() - t;
    };
    timings.kubectlColdMs = kubectl();
    timings.kubectlUnchangedMs = kubectl();
  });
});
