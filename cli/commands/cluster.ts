// gitfleet cluster create | update | get | list | delete
import type { Command } from 'commander';
import type { Cluster } from '../../proto/index.js';
import { age, labels, print, type Column } from '../output.js';
import { collect, parseDuration, parseLabels, parseSelectorFlag, parseVars } from '../parse.js';
import { flagNames, givenFields, type FieldTable } from '../update-fields.js';
import { nounCommand, withHub, writeVerb } from './verbs.js';

const columns: Column<Cluster>[] = [
  { header: 'NAME', get: (c) => c.name },
  { header: 'LABELS', get: (c) => labels(c.labels) },
  { header: 'AGENT', get: (c) => c.agentVersion || '-' },
  { header: 'STATE', get: (c) => c.state || '-' },
  { header: 'VARS', get: (c) => Object.keys(c.vars ?? {}).length || '-' },
  { header: 'WINDOWS', get: (c) => (c.maintenanceWindows?.length ? c.maintenanceWindows.join('; ') : '-') },
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

interface ClusterFlags {
  label?: string[];
  var?: string[];
  window?: string[];
}

/** The flags `cluster update` sends: each flag given → the field it changes (the others keep theirs). */
export const CLUSTER_UPDATE_FIELDS: FieldTable = {
  label: ['labels'],
  var: ['vars'],
  window: ['maintenance_windows'],
};

function clusterSpec(name: string, o: ClusterFlags) {
  return {
    name,
    labels: parseLabels(o.label),
    vars: parseVars((o.var ?? []).filter(Boolean)),
    // '' clears them
    maintenanceWindows: (o.window ?? []).filter(Boolean),
  };
}

/** The request of `cluster update`: only the fields of the flags given. */
export function clusterUpdate(name: string, o: ClusterFlags, cmd: Command) {
  const fields = givenFields(cmd, CLUSTER_UPDATE_FIELDS);
  if (fields.length === 0)
    throw new Error(`nothing to change: give at least one of ${flagNames(CLUSTER_UPDATE_FIELDS)}`);
  return { cluster: clusterSpec(name, o), fields };
}

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
      listFlags: (c) =>
        c
          .option(
            '--selector <sel>',
            "only clusters this label selector matches: 'env in (prod,staging),!canary'",
          )
          .option('--group <name>', 'only the clusters of this cluster group'),
      list: async (hub, o) =>
        (await hub.clusters.listClusters({ ...parseSelectorFlag(o.selector), group: o.group ?? '' }))
          .clusters,
      remove: async (hub, { name }) => void (await hub.clusters.deleteCluster({ name })),
    },
    (cluster) => {
      const varFlag =
        "a substitution variable of the cluster's assignments, over its groups' (repeat for more)";
      const windowFlag =
        "when new revisions may reach the cluster, e.g. 'Sat 02:00-04:00 UTC', 'Mon-Fri 22:00-06:00 Europe/Berlin', 'daily 01:00-02:00 UTC' (repeat for more)";
      writeVerb<Cluster, ClusterFlags>(
        cluster,
        'create <name>',
        'register a cluster (run `gitfleet agent --cluster <name>` in it)',
        (c) =>
          c
            .option('--label <k=v>', 'a label for selectors (repeat for more)', collect)
            .option('--var <name=value>', varFlag, collect)
            .option('--window <window>', windowFlag, collect),
        columns,
        (hub, name, o) => hub.clusters.createCluster({ cluster: clusterSpec(name, o) }),
      );
      writeVerb<Cluster, ClusterFlags>(
        cluster,
        'update <name>',
        "change a cluster's labels, vars or maintenance windows: each flag given replaces that list (selectors, groups and desired sets follow at once)",
        (c) =>
          c
            .option('--label <k=v>', "a label (repeat for more; '' for none)", collect)
            .option('--var <name=value>', `${varFlag}; '' for none`, collect)
            .option('--window <window>', `${windowFlag}; '' for none (always open)`, collect),
        columns,
        (hub, name, o, cmd) => hub.clusters.updateCluster(clusterUpdate(name, o, cmd)),
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
