// Which clusters an assignment selects: by name, and/or by labels (every selector label must be
// present with the same value). An assignment with neither selects nothing.
import type { Assignment } from '../../proto/index.js';

export interface ClusterIdentity {
  name: string;
  labels: Record<string, string>;
  /** The cluster's maintenance windows, published in its desired set for its agent. */
  maintenanceWindows?: string[];
}

/** True when every key of `selector` is in `labels` with the same value (an empty selector matches). */
export function matchesSelector(labels: Record<string, string>, selector: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector)) {
    if (!Object.prototype.hasOwnProperty.call(labels, key) || labels[key] !== value) return false;
  }
  return true;
}

export function assignmentSelects(
  assignment: Pick<Assignment, 'clusters' | 'selector'>,
  cluster: ClusterIdentity,
): boolean {
  if (assignment.clusters.includes(cluster.name)) return true;
  return Object.keys(assignment.selector).length > 0 && matchesSelector(cluster.labels, assignment.selector);
}
