// The tenancy rules hub and agent both enforce, so that a forged or stale desired set is refused
// by the agent exactly as the hub refuses the same input from the API: reserved namespaces,
// cluster roles no tenant may hold, and the shape of granted cluster-scoped kinds.

/** The ClusterRoles a tenant may be bound to when the operator names none (hub and agent). */
export const DEFAULT_TENANT_CLUSTER_ROLES: readonly string[] = ['admin', 'edit', 'view'];

import { hasControlChars, quote } from './validation.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A Kubernetes kind: CamelCase letters and digits, as CRDs' `names.kind`. */
const KIND = /^[A-Z][A-Za-z0-9]{0,62}$/;

/**
 * Why no tenant may own `namespace`, or undefined. Reserved: `default`, `kube-*` (the cluster's
 * own), `gitfleet-*` (the agents' family: their inventories, state and the Secret with repo
 * credentials) and the agent's own namespace when it is named otherwise.
 */
export function reservedNamespaceProblem(namespace: string, agentNamespace?: string): string | undefined {
  if (namespace === 'default') return `${quote(namespace)} is reserved for the cluster's own use`;
  if (namespace.startsWith('kube-')) return `${quote(namespace)} is reserved (kube-* belongs to Kubernetes)`;
  if (namespace.startsWith('gitfleet-')) {
    return `${quote(namespace)} is reserved (gitfleet-* is the agents' namespace family)`;
  }
  if (agentNamespace && namespace === agentNamespace) {
    return `${quote(namespace)} is the agent's own namespace`;
  }
  return undefined;
}

/** Why `role` may never be bound to a tenant, whatever an allowlist says, or undefined. */
export function forbiddenClusterRoleProblem(role: string): string | undefined {
  if (role === 'cluster-admin') return `${quote(role)} is never granted to a tenant`;
  if (role.startsWith('system:')) return `${quote(role)}: system:* roles are never granted to a tenant`;
  return undefined;
}

/** Why `role` is not a usable ClusterRole name, or undefined (syntax only). */
export function clusterRoleNameProblem(role: string): string | undefined {
  if (role === '') return 'required';
  if (hasControlChars(role)) return `${quote(role)} contains a control character`;
  if (role.length > 253 || /[/%\s]/.test(role) || role === '.' || role === '..') {
    return `${quote(role)} is not a valid ClusterRole name (no '/', '%' or spaces, at most 253 characters)`;
  }
  return undefined;
}

/**
 * Why `role` may not be a tenant's cluster role: bad syntax, forbidden, or not in the operator's
 * allowlist. Undefined when it may.
 */
export function tenantClusterRoleProblem(role: string, allowed: readonly string[]): string | undefined {
  const problem = clusterRoleNameProblem(role) ?? forbiddenClusterRoleProblem(role);
  if (problem) return problem;
  if (!allowed.includes(role)) {
    return `${quote(role)} is not one of the cluster roles the operator allows (${allowed.join(', ')}; see --tenant-cluster-role)`;
  }
  return undefined;
}

/** Why an operator's allowlist of tenant cluster roles is unusable (names the bad entry), or undefined. */
export function clusterRoleAllowlistProblem(roles: readonly string[]): string | undefined {
  if (roles.length === 0) return 'at least one cluster role is required';
  for (const role of roles) {
    const problem = clusterRoleNameProblem(role) ?? forbiddenClusterRoleProblem(role);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * Why `entry` is not a valid allowed cluster kind, or undefined. "Kind" (any API group) or
 * "group/Kind". Namespace is not grantable: a tenant's own namespaces are always allowed, others
 * never.
 */
export function clusterKindProblem(entry: string): string | undefined {
  if (entry === '') return 'must not be empty';
  if (hasControlChars(entry)) return `${quote(entry)} contains a control character`;
  const slash = entry.lastIndexOf('/');
  const group = slash >= 0 ? entry.slice(0, slash) : undefined;
  const kind = slash >= 0 ? entry.slice(slash + 1) : entry;
  if (group !== undefined && (group.length > 253 || !DNS1123_SUBDOMAIN.test(group))) {
    return `${quote(entry)}: the API group must be a DNS subdomain ("Kind" or "group/Kind", e.g. "rbac.authorization.k8s.io/ClusterRole")`;
  }
  if (!KIND.test(kind)) {
    return `${quote(entry)}: ${quote(kind)} is not a Kubernetes kind (CamelCase letters and digits, e.g. "ClusterRole")`;
  }
  if (kind === 'Namespace' && (group === undefined || group === '')) {
    return `${quote(entry)}: Namespace cannot be granted (a tenant's own namespaces are always allowed, others never)`;
  }
  return undefined;
}

/** Whether `allowed` grants the cluster-scoped kind `kind` of API group `group` ("" = core). */
export function clusterKindAllowed(allowed: readonly string[], group: string, kind: string): boolean {
  return allowed.some((entry) => {
    const slash = entry.lastIndexOf('/');
    if (slash < 0) return entry === kind;
    return entry.slice(0, slash) === group && entry.slice(slash + 1) === kind;
  });
}
