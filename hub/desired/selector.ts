// Which clusters an assignment selects: by name, by a label selector (kubectl's match labels plus
// match expressions, every requirement must hold), and by named cluster groups. An assignment
// with none of them selects nothing; a group's members are its named clusters and the clusters
// its non-empty selector matches. Runs clusters × assignments on every projection, so each
// assignment's and group's selection is compiled once per object (WeakMap) and reused.
import type { Assignment, Group, LabelSelector } from '../../proto/index.js';
import { isEmptySelector, matchesLabelSelector } from '../../proto/contract/label-selector.js';

export interface ClusterIdentity {
  name: string;
  labels: Record<string, string>;
  /** The cluster's own substitution variables (over its groups', under the assignment's). */
  vars?: Record<string, string>;
  /** The cluster's maintenance windows, published in its desired set for its agent. */
  maintenanceWindows?: string[];
}

/** What selection reads of an assignment (expressions and groups absent: none). */
export type Selection = Pick<Assignment, 'clusters' | 'selector'> &
  Partial<Pick<Assignment, 'matchExpressions' | 'groups'>>;

/** What membership reads of a group. */
export type GroupSelection = Pick<Group, 'name' | 'clusters' | 'selector'>;

interface Compiled {
  names: ReadonlySet<string>;
  /** undefined: the selector is empty and selects nothing by labels */
  selector: LabelSelector | undefined;
  groups: ReadonlySet<string>;
}

const compiled = new WeakMap<object, Compiled>();

function compile(names: readonly string[], selector: LabelSelector, groups: readonly string[]): Compiled {
  return {
    names: new Set(names),
    selector: isEmptySelector(selector) ? undefined : selector,
    groups: new Set(groups),
  };
}

function compiledSelection(a: Selection): Compiled {
  let c = compiled.get(a);
  if (!c) {
    c = compile(
      a.clusters,
      { matchLabels: a.selector ?? {}, matchExpressions: a.matchExpressions ?? [] },
      a.groups ?? [],
    );
    compiled.set(a, c);
  }
  return c;
}

function compiledGroup(g: GroupSelection): Compiled {
  let c = compiled.get(g);
  if (!c) {
    c = compile(g.clusters, g.selector ?? { matchLabels: {}, matchExpressions: [] }, []);
    compiled.set(g, c);
  }
  return c;
}

/** True when every key of `selector` is in `labels` with the same value (an empty selector matches). */
export function matchesSelector(labels: Record<string, string>, selector: Record<string, string>): boolean {
  return matchesLabelSelector(labels, { matchLabels: selector, matchExpressions: [] });
}

/** Whether the cluster is in the group: named by it, or matched by its non-empty selector. */
export function groupSelects(
  group: GroupSelection,
  cluster: Pick<ClusterIdentity, 'name' | 'labels'>,
): boolean {
  const c = compiledGroup(group);
  return (
    c.names.has(cluster.name) ||
    (c.selector !== undefined && matchesLabelSelector(cluster.labels, c.selector))
  );
}

/** The groups (of `groups`, in their order) the cluster is in. */
export function clusterGroups<G extends GroupSelection>(
  cluster: Pick<ClusterIdentity, 'name' | 'labels'>,
  groups: readonly G[],
): G[] {
  return groups.filter((g) => groupSelects(g, cluster));
}

/**
 * Whether the assignment selects the cluster; `inGroups` are the groups the cluster is in
 * (clusterGroups), without which an assignment's groups select nothing.
 */
export function assignmentSelects(
  assignment: Selection,
  cluster: Pick<ClusterIdentity, 'name' | 'labels'>,
  inGroups: readonly Pick<Group, 'name'>[] = [],
): boolean {
  const c = compiledSelection(assignment);
  if (c.names.has(cluster.name)) return true;
  if (c.selector !== undefined && matchesLabelSelector(cluster.labels, c.selector)) return true;
  if (c.groups.size > 0) for (const g of inGroups) if (c.groups.has(g.name)) return true;
  return false;
}
