// Validation and defaults of an assignment (pure). The tenant is looked up first: the target
// namespace defaults to, and must be one of, the tenant's namespaces.
import type { Assignment, Substitution, Tenant } from '../../proto/index.js';
import {
  ValidationError,
  checkDnsLabel,
  checkRepoPath,
  checkVars,
  quote,
} from '../../proto/contract/validation.js';
import { checkLabels } from '../common/names.js';

// the path rule is the contract's: the agent checks every desired set with it too
export { checkRepoPath };

export const RENDERERS = ['auto', 'plain'] as const;
const LATER_RENDERERS = ['kustomize', 'helm'];

export type AssignmentSpec = Omit<Assignment, 'createdAtMs' | 'updatedAtMs' | 'matchedClusters'>;

export function validateAssignment(input: Partial<Assignment>, tenant: Tenant): AssignmentSpec {
  const name = checkDnsLabel('assignment.name', input.name ?? '');
  const repo = checkDnsLabel('assignment.repo', input.repo ?? '');
  const path = checkRepoPath('assignment.path', input.path ?? '');

  const clusters: string[] = [];
  (input.clusters ?? []).forEach((c, i) => {
    checkDnsLabel(`assignment.clusters[${i}]`, c);
    if (!clusters.includes(c)) clusters.push(c);
  });
  const selector = checkLabels('assignment.selector', input.selector);

  const targetNamespace = input.targetNamespace || tenant.namespaces[0];
  if (!tenant.namespaces.includes(targetNamespace)) {
    throw new ValidationError(
      'assignment.target_namespace',
      `${quote(targetNamespace)} is not one of tenant ${JSON.stringify(tenant.name)}'s namespaces (${tenant.namespaces.join(', ')})`,
    );
  }

  const renderer = input.renderer || 'auto';
  if (!(RENDERERS as readonly string[]).includes(renderer)) {
    throw new ValidationError(
      'assignment.renderer',
      LATER_RENDERERS.includes(renderer)
        ? `${quote(renderer)} is not supported yet (use "auto" or "plain")`
        : `${quote(renderer)} is not a renderer (use "auto" or "plain")`,
    );
  }

  return {
    tenant: tenant.name,
    name,
    repo,
    path,
    clusters,
    selector,
    targetNamespace,
    prune: Boolean(input.prune),
    suspend: Boolean(input.suspend),
    renderer,
    helm: undefined, // not accepted yet (the helm renderer)
    substitute: validateSubstitution(input.substitute),
  };
}

/**
 * Post-render substitution: undefined when off (desired sets stay as they were); variables or
 * strict mode without `enabled` are refused rather than silently ignored.
 */
export function validateSubstitution(input: Partial<Substitution> | undefined): Substitution | undefined {
  const vars = checkVars('assignment.substitute.vars', input?.vars);
  if (!input?.enabled) {
    if (Object.keys(vars).length > 0 || input?.strict) {
      throw new ValidationError(
        'assignment.substitute.enabled',
        'variables or strict mode are given but substitution is off: set enabled (gitfleet assignment ... --substitute)',
      );
    }
    return undefined;
  }
  return { enabled: true, vars, strict: Boolean(input.strict) };
}
