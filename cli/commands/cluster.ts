// gitfleet cluster create | update | get | list | delete
import type { Command } from 'commander';
import type { Cluster } from '../../proto/index.js';
import { age, labels, print, type Column } from '../output.js';
import { collect, parseDuration, parseLabels } from '../parse.js';
import { nounCommand, withHub, writeVerb } from './verbs.js';

const columns: Column<Cluster>[] = [
  { header: 'NAME', get: (c) => c.name },
  { header: 'LABELS', get: (c) => labels(c.labels) },
  { header: 'AGENT', get: (c) => c.agentVersion || '-' },
  { header: 'STATE', get: (c) => c.state || '-' },
  { header: 'HEARTBEAT', get: (c) => age(c.lastHeartbeatMs) },
  { header: 'GENERATION', get: (c) => `${c.observedGeneration}/${c.desiredGeneration}` },
  { header: 'JOINED', get: (c) => (c.joinedAtMs ? `${age(c.joinedAtMs)} ago` : '-') },
  { header: 'AGE', get: (c) => age(c.createdAtMs) },
  {
    header: 'REFUSED',
    get: (c) =>
      !c.desiredSetError
        ? '-'
        : c.desiredSetError.length > 60
          ? `${c.desiredSetError.slice(0, 59)}…`
          : c.desiredSetError,
  },
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
      cluster
        .command('token')
        .description("join tokens for a cluster's agent")
        .command('create <name>')
        .description(
          'a one-time token for `gitfleet agent --cluster <name> --join TOKEN --hub ADDR`; printed once, alone on the last line of stdout',
        )
        .option('--ttl <dur>', 'expire after this long (default 1h, at most 7 days)')
        .action(async (name: string, o: { ttl?: string }, cmd: Command) =>
          withHub(cmd, async (hub, format) => {
            const res = await hub.clusters.createJoinToken({
              cluster: name,
              ttlSeconds: o.ttl ? parseDuration(o.ttl) : 0,
            });
            if (format === 'table') {
              process.stdout.write(
                `join token for cluster ${name} created; it works once, until ${new Date(res.expiresAtMs).toISOString()}, and is shown only now:\n`,
              );
              process.stdout.write(`${res.token}\n`);
            } else print(format, res, []);
          }),
        );
      cluster
        .command('revoke <name>')
        .description("cut the cluster's agent off the bus at once; joining again needs a new token")
        .action(async (name: string, _o: unknown, cmd: Command) =>
          withHub(cmd, async (hub) => {
            await hub.clusters.revokeCluster({ name });
            process.stdout.write(`cluster "${name}" revoked: its agent's bus credentials no longer work\n`);
          }),
        );
    },
  );
}
