// Validation of the targeting fields requests carry (pure): a label selector sent as match labels
// plus match expressions in two fields (Assignment.selector + match_expressions,
// ListClustersRequest.selector + match_expressions), names of cluster groups, and per-group
// variables. Errors name the request's own fields.
import type { GroupVars, LabelSelector, LabelSelectorRequirement } from '../../proto/index.js';
import { checkLabelSelector } from '../../proto/contract/label-selector.js';
import { ValidationError, checkDnsLabel, checkVars, quote } from '../../proto/contract/validation.js';

/** Most groups an assignment names (in groups, and in group_vars). */
export const MAX_ASSIGNMENT_GROUPS = 32;

/**
 * The selector of `labels` (field `labelsField`) and `expressions` (field `expressionsField`),
 * validated and normalized by the contract's checkLabelSelector; its errors name these fields.
 */
export function checkSplitSelector(
  labelsField: string,
  expressionsField: string,
  labels: Record<string, string> | undefined | null,
  expressions: readonly LabelSelectorRequirement[] | undefined | null,
): LabelSelector {
  try {
    return checkLabelSelector('selector', {
      matchLabels: labels ?? {},
      matchExpressions: [...(expressions ?? [])],
    });
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const field = err.field.startsWith('selector.matchLabels')
      ? labelsField + err.field.slice('selector.matchLabels'.length)
      : err.field.startsWith('selector.matchExpressions')
        ? expressionsField + err.field.slice('selector.matchExpressions'.length)
        : `${labelsField} + ${expressionsField}`;
    throw new ValidationError(field, err.reason);
  }
}

/** Group names: DNS labels, each once, in the given order, at most MAX_ASSIGNMENT_GROUPS. */
export function checkGroupNames(field: string, names: readonly string[] | undefined | null): string[] {
  const given = names ?? [];
  if (given.length > MAX_ASSIGNMENT_GROUPS) {
    throw new ValidationError(field, `${given.length} groups (at most ${MAX_ASSIGNMENT_GROUPS})`);
  }
  const out: string[] = [];
  given.forEach((g, i) => {
    checkDnsLabel(`${field}[${i}]`, g);
    if (!out.includes(g)) out.push(g);
  });
  return out;
}

/**
 * Per-group variables: each group a DNS label named once, its variables as checkVars allows;
 * sorted by group name (a stable desired-set hash). Groups without variables are dropped.
 */
export function checkGroupVars(
  field: string,
  list: readonly Partial<GroupVars>[] | undefined | null,
): GroupVars[] {
  const given = list ?? [];
  if (given.length > MAX_ASSIGNMENT_GROUPS) {
    throw new ValidationError(field, `${given.length} groups (at most ${MAX_ASSIGNMENT_GROUPS})`);
  }
  const seen = new Set<string>();
  const out: GroupVars[] = [];
  given.forEach((g, i) => {
    const group = checkDnsLabel(`${field}[${i}].group`, g?.group ?? '');
    if (seen.has(group)) {
      throw new ValidationError(
        `${field}[${i}].group`,
        `${quote(group)} is given twice: merge its variables`,
      );
    }
    seen.add(group);
    const vars = checkVars(`${field}[${i}].vars`, g?.vars);
    if (Object.keys(vars).length > 0) out.push({ group, vars });
  });
  return out.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
}
