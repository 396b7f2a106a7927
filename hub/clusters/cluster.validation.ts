// Validation of a cluster registration (pure).
import type { Cluster } from '../../proto/index.js';
import { ValidationError } from '../common/errors.js';
import { checkDnsLabel, checkLabels } from '../common/names.js';

export interface ClusterSpec {
  name: string;
  labels: Record<string, string>;
}

export function validateCluster(input: Partial<Cluster> | null | undefined): ClusterSpec {
  if (!input) throw new ValidationError('cluster', 'required');
  return {
    name: checkDnsLabel('cluster.name', input.name ?? ''),
    labels: checkLabels('cluster.labels', input.labels),
  };
}
