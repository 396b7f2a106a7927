// The agent's own namespace (inventories, the persisted desired set, bus credentials): created by
// the agent when missing, so that a plain `gitfleet agent --kubeconfig` needs nothing applied first.
import { LABEL_MANAGED_BY, MANAGED_BY } from '../../proto/index.js';
import type { KubeClient } from '../kube/kube-client.js';

export async function ensureAgentNamespace(client: KubeClient, namespace: string): Promise<void> {
  if (await client.get({ apiVersion: 'v1', kind: 'Namespace', namespace: '', name: namespace })) return;
  await client.apply(
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace, labels: { [LABEL_MANAGED_BY]: MANAGED_BY } },
    },
    { force: true },
  );
}
