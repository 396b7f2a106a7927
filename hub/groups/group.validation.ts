// Validation of a cluster group (pure): a DNS-label name, a label selector and/or named clusters
// (at least one of them), and substitution variables as tenants and assignments have them.
import type { Group } from '../../proto/index.js';
import { checkLabelSelector, isEmptySelector } from '../../proto/contract/label-selector.js';
import { ValidationError, checkDnsLabel, checkVars } from '../../proto/contract/validation.js';
import type { MaskRules } from '../common/field-mask.js';

/** Most clusters a group names explicitly (a selector covers larger sets). */
export const MAX_GROUP_CLUSTERS = 1000;

export type GroupSpec = Pick<Group, 'name' | 'selector' | 'clusters' | 'vars'>;

/** What UpdateGroupRequest.fields may name. */
export const GROUP_FIELDS: MaskRules = { field: 'fields', fields: ['selector', 'clusters', 'vars'] };

export const GROUP_DEFAULTS: Partial<Group> = {
  selector: { matchLabels: {}, matchExpressions: [] },
  clusters: [],
  vars: {},
};

export function validateGroup(input: Partial<Group> | null | undefined): GroupSpec {
  if (!input) throw new ValidationError('group', 'required');
  const name = checkDnsLabel('group.name', input.name ?? '');
  const selector = checkLabelSelector('group.selector', input.selector);
  const given = input.clusters ?? [];
  if (given.length > MAX_GROUP_CLUSTERS) {
    throw new ValidationError(
      'group.clusters',
      `${given.length} clusters (at most ${MAX_GROUP_CLUSTERS}: use a selector)`,
    );
  }
  const clusters: string[] = [];
  given.forEach((c, i) => {
    checkDnsLabel(`group.clusters[${i}]`, c);
    if (!clusters.includes(c)) clusters.push(c);
  });
  clusters.sort();
  if (isEmptySelector(selector) && clusters.length === 0) {
    throw new ValidationError(
      'group.selector',
      'a group needs a selector or clusters (gitfleet group create NAME --selector SEL | --cluster C ...)',
    );
  }
  return { name, selector, clusters, vars: checkVars('group.vars', input.vars) };
}
