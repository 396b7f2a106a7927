// Validation and defaults of an assignment (pure). The tenant is looked up first: the target
// namespace defaults to, and must be one of, the tenant's namespaces.
import type { Assignment, Tenant } from '../../proto/index.js';
import { ValidationError } from '../common/errors.js';
import { checkDnsLabel, checkLabels, hasControlChars } from '../common/names.js';

export const RENDERERS = ['auto', 'plain'] as const;
const LATER_RENDERERS = ['kustomize', 'helm'];

export type AssignmentSpec = Omit<Assignment, 'createdAtMs' | 'updatedAtMs'>;

/** A path inside the repo, normalized: relative, no "..", "." for the root. */
export function checkRepoPath(field: string, path: string): string {
  if (hasControlChars(path)) throw new ValidationError(field, 'must not contain control characters');
  if (path.includes('\\')) throw new ValidationError(field, 'use "/" as the separator');
  if (path.startsWith('/'))
    throw new ValidationError(field, 'must be relative to the repo root (no leading "/")');
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ValidationError(field, 'must not contain ".."');
  return parts.length ? parts.join('/') : '.';
}

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
      `${JSON.stringify(targetNamespace)} is not one of tenant ${JSON.stringify(tenant.name)}'s namespaces (${tenant.namespaces.join(', ')})`,
    );
  }

  const renderer = input.renderer || 'auto';
  if (!(RENDERERS as readonly string[]).includes(renderer)) {
    throw new ValidationError(
      'assignment.renderer',
      LATER_RENDERERS.includes(renderer)
        ? `${JSON.stringify(renderer)} is not supported yet (use "auto" or "plain")`
        : `${JSON.stringify(renderer)} is not a renderer (use "auto" or "plain")`,
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
  };
}
