// gitfleet group create | update | get | list | delete: named sets of clusters (by selector
// and/or by name) that assignments target with --group.
import type { Command } from 'commander';
import { formatLabelSelector, type Group } from '../../proto/index.js';
import { age, type Column } from '../output.js';
import { collect, parseLabelSelectorFlag, parseVars } from '../parse.js';
import { flagNames, givenFields, type FieldTable } from '../update-fields.js';
import { nounCommand, writeVerb } from './verbs.js';

/** A group as shown: `get` adds the names of the clusters in it now. */
type GroupRow = Group & { members?: string[] };

const columns: Column<GroupRow>[] = [
  { header: 'NAME', get: (g) => g.name },
  { header: 'SELECTOR', get: (g) => formatLabelSelector(g.selector) || '-' },
  { header: 'NAMED CLUSTERS', get: (g) => (g.clusters.length ? g.clusters.join(',') : '-') },
  { header: 'VARS', get: (g) => Object.keys(g.vars).length || '-' },
  {
    header: 'IN GROUP',
    get: (g) => (g.members ? g.members.join(',') || '-' : `${g.matchedClusters} cluster(s)`),
  },
  { header: 'AGE', get: (g) => age(g.createdAtMs) },
];

interface GroupFlags {
  selector?: string;
  cluster?: string[];
  var?: string[];
}

/** The flags `group update` sends: each flag given → the field it changes (the others keep theirs). */
export const GROUP_UPDATE_FIELDS: FieldTable = {
  selector: ['selector'],
  cluster: ['clusters'],
  var: ['vars'],
};

function groupSpec(name: string, o: GroupFlags): Partial<Group> {
  return {
    name,
    selector: parseLabelSelectorFlag(o.selector),
    clusters: (o.cluster ?? []).filter(Boolean),
    vars: parseVars((o.var ?? []).filter(Boolean)),
  };
}

export function registerGroup(program: Command): void {
  nounCommand<GroupRow>(
    program,
    {
      word: 'group',
      plural: 'groups',
      description:
        'cluster groups: named sets of clusters (by selector and/or by name) for assignments (--group)',
      columns,
      scoped: false,
      get: async (hub, { name }) => {
        const res = await hub.groups.getGroup({ name });
        return { ...res.group!, members: res.members };
      },
      list: async (hub) => (await hub.groups.listGroups({})).groups,
      remove: async (hub, { name }) => void (await hub.groups.deleteGroup({ name })),
      deleteDescription: 'delete a cluster group (refused while an assignment names it)',
    },
    (group) => {
      const selectorFlag =
        "the group's clusters by labels, kubectl's syntax: 'env in (prod,staging),tier!=gold,!canary,region'";
      const varFlag = "a substitution variable of the group's clusters, over the tenant's (repeat for more)";
      writeVerb<GroupRow, GroupFlags>(
        group,
        'create <name>',
        'create a cluster group: clusters matching --selector and/or named by --cluster',
        (c) =>
          c
            .option('--selector <sel>', selectorFlag)
            .option('--cluster <name>', 'a cluster of the group (repeat for more)', collect)
            .option('--var <name=value>', varFlag, collect),
        columns,
        (hub, name, o) => {
          if (!o.selector && !o.cluster?.length)
            throw new Error("name the group's clusters with --selector SEL or --cluster NAME...");
          return hub.groups.createGroup({ group: groupSpec(name, o) });
        },
      );
      writeVerb<GroupRow, GroupFlags>(
        group,
        'update <name>',
        "change a cluster group: each flag given replaces that field (the group's clusters before and after get their desired sets at once)",
        (c) =>
          c
            .option('--selector <sel>', `${selectorFlag} ('' for none)`)
            .option('--cluster <name>', "a cluster of the group (repeat for more; '' for none)", collect)
            .option('--var <name=value>', `${varFlag}; '' for none`, collect),
        columns,
        (hub, name, o, cmd) => {
          const fields = givenFields(cmd, GROUP_UPDATE_FIELDS);
          if (fields.length === 0)
            throw new Error(`nothing to change: give at least one of ${flagNames(GROUP_UPDATE_FIELDS)}`);
          return hub.groups.updateGroup({ group: groupSpec(name, o), fields });
        },
      );
    },
  );
}
