// The applier at scale on a real API server: 1,000 ConfigMaps applied cold, then again with
// nothing changed (which must cost no write at all), then with ten changed (exactly ten writes).
// Speed is measured by `npm run bench`, never here.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createLogger } from '../../../lib/log.js';
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
  const log = createLogger('agent', 'warn');

  beforeAll(async () => {
    kube = await startKube({ controllerManager: false });
    cluster = await KubeCluster.create({ kubeconfigPath: kube.kubeconfigPath });
    for (const ns of ['scale']) {
      await cluster.asAgent().apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    }
  });

  afterAll(async () => {
    cluster?.close();
    await kube?.stop();
  });

  it(`applies ${N} objects cold, then again with zero writes`, async () => {
    const applier = new Applier({ discovery: cluster.discovery, log, concurrency: 16 });
    const items = configMaps('scale', 'one').map((object) => ({ object }));
    const cold = await applier.apply(cluster.asAgent(), items);
    expect(cold.failures).toEqual([]);
    expect(cold.changes.filter((c) => c.action === 'created')).toHaveLength(N);

    const writes = await kube.writeRequests(['configmaps']);
    const again = await applier.apply(cluster.asAgent(), items);
    expect(again.changes.filter((c) => c.action === 'unchanged')).toHaveLength(N);
    expect(await kube.writeRequests(['configmaps'])).toBe(writes);

    const changed = configMaps('scale', 'one');
    for (const o of changed.slice(0, 10)) (o.data as Record<string, string>).value = 'two';
    const some = await applier.apply(
      cluster.asAgent(),
      changed.map((object) => ({ object })),
    );
    expect(some.changes.filter((c) => c.action === 'configured')).toHaveLength(10);
    expect(await kube.writeRequests(['configmaps'])).toBe(writes + 10);
  });
});
