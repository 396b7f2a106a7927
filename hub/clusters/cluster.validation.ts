// Validation of a cluster registration and of its changes (pure).
import type { Cluster } from '../../proto/index.js';
import { checkMaintenanceWindows } from '../../proto/contract/maintenance-window.js';
import { checkVars } from '../../proto/contract/validation.js';
import { ValidationError } from '../common/errors.js';
import type { MaskRules } from '../common/field-mask.js';
import { checkDnsLabel, checkLabels } from '../common/names.js';

export interface ClusterSpec {
  name: string;
  labels: Record<string, string>;
  /** Substitution variables of the cluster's assignments (over its groups', under the assignment's). */
  vars: Record<string, string>;
  /** Normalized maintenance windows ("Sat 02:00-04:00 UTC"); none: always open. */
  maintenanceWindows: string[];
}

/** What UpdateClusterRequest.fields may name; an empty mask means the labels only (older clients). */
export const CLUSTER_FIELDS: MaskRules = {
  field: 'fields',
  fields: ['labels', 'vars', 'maintenanceWindows'],
};

export const CLUSTER_DEFAULTS: Partial<Cluster> = { labels: {}, vars: {}, maintenanceWindows: [] };

export function validateCluster(input: Partial<Cluster> | null | undefined): ClusterSpec {
  if (!input) throw new ValidationError('cluster', 'required');
  return {
    name: checkDnsLabel('cluster.name', input.name ?? ''),
    labels: checkLabels('cluster.labels', input.labels),
    vars: checkVars('cluster.vars', input.vars),
    maintenanceWindows: checkMaintenanceWindows('cluster.maintenance_windows', input.maintenanceWindows),
  };
}
