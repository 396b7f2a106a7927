// gitfleet cluster create | update | get | list | delete
import type { Command } from 'commander';
import type { Cluster } from '../../proto/index.js';
import { age, labels, type Column } from '../output.js';
import { collect, parseLabels } from '../parse.js';
import { nounCommand, writeVerb } from './verbs.js';

const columns: Column<Cluster>[] = [
  { header: 'NAME', get: (c) => c.name },
  { header: 'LABELS', get: (c) => labels(c.labels) },
  { header: 'AGENT', get: (c) => c.agentVersion || '-' },
  { header: 'HEARTBEAT', get: (c) => age(c.lastHeartbeatMs) },
  { header: 'GENERATION', get: (c) => `${c.observedGeneration}/${c.desiredGeneration}` },
  { header: 'AGE', get: (c) => age(c.createdAtMs) },
];

export function registerCluster(program: Command): void {
  nounCommand<Cluster>(
    program,
    {
      word: 'cluster',
      plural: 'clusters',
      description: 'clusters: the spokes, each running one agent',
      columns,
      scoped: false,
      get: (hub, { name }) => hub.clusters.getCluster({ name }),
      listFlags: (c) => c.option('--selector <k=v,...>', 'only clusters with these labels'),
      list: async (hub, o) =>
        (await hub.clusters.listClusters({ selector: parseLabels(o.selector ? [o.selector] : []) })).clusters,
      remove: async (hub, { name }) => void (await hub.clusters.deleteCluster({ name })),
    },
    (cluster) => {
      writeVerb<Cluster, { label?: string[] }>(
        cluster,
        'create <name>',
        'register a cluster (run `gitfleet agent --cluster <name>` in it)',
        (c) => c.option('--label <k=v>', 'a label for selectors (repeat for more)', collect),
        columns,
        (hub, name, o) => hub.clusters.createCluster({ cluster: { name, labels: parseLabels(o.label) } }),
      );
      writeVerb<Cluster, { label?: string[] }>(
        cluster,
        'update <name>',
        "replace a cluster's labels (selectors re-evaluate at once)",
        (c) => c.option('--label <k=v>', 'a label (repeat for more); none clears them', collect),
        columns,
        (hub, name, o) => hub.clusters.updateCluster({ cluster: { name, labels: parseLabels(o.label) } }),
      );
    },
  );
}
