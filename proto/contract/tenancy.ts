// The tenancy rules hub and agent both enforce, so that a forged or stale desired set is refused
// by the agent exactly as the hub refuses the same input from the API: reserved namespaces,
// cluster roles no tenant may hold, and the shape of granted cluster-scoped kinds.

/** The ClusterRoles a tenant may be bound to when the operator names none (hub and agent). */
export const DEFAULT_TENANT_CLUSTER_ROLES: readonly string[] = ['admin', 'edit', 'view'];

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A Kubernetes kind: CamelCase letters and digits, as CRDs' `names.kind`. */
const KIND = /^[A-Z][A-Za-z0-9]{0,62}$/;

/** JSON-quoted and cut to `max` characters, so an error never echoes a huge or binary value. */
export function quoteValue(value: string, max = 64): string {
  return value.length > max
    ? `${JSON.stringify(value.slice(0, max))}… (${value.length} characters)`
    : JSON.stringify(value);
}

/** True when `s` has an ASCII control character (0x00-0x1f, 0x7f). */
export function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * Why no tenant may own `namespace`, or undefined. Reserved: `default`, `kube-*` (the cluster's
 * own), `gitfleet-*` (the agents' family: their inventories, state and the Secret with repo
 * credentials) and the agent's own namespace when it is named otherwise.
 */
export function reservedNamespaceProblem(namespace: string, agentNamespace?: string): string | undefined {
  if (namespace === 'default') return `${quoteValue(namespace)} is reserved for the cluster's own use`;
  if (namespace.startsWith('kube-'))
    return `${quoteValue(namespace)} is reserved (kube-* belongs to Kubernetes)`;
  if (namespace.startsWith('gitfleet-')) {
    return `${quoteValue(namespace)} is reserved (gitfleet-* is the agents' namespace family)`;
  }
  if (agentNamespace && namespace === agentNamespace) {
    return `${quoteValue(namespace)} is the agent's own namespace`;
  }
  return undefined;
}

/** Why `role` may never be bound to a tenant, whatever an allowlist says, or undefined. */
export function forbiddenClusterRoleProblem(role: string): string | undefined {
  if (role === 'cluster-admin') return `${quoteValue(role)} is never granted to a tenant`;
  if (role.startsWith('system:')) return `${quoteValue(role)}: system:* roles are never granted to a tenant`;
  return undefined;
}

/** Why `role` is not a usable ClusterRole name, or undefined (syntax only). */
export function clusterRoleNameProblem(role: string): string | undefined {
  if (role === '') return 'required';
  if (hasControlChar(role)) return `${quoteValue(role)} contains a control character`;
  if (role.length > 253 || /[/%\s]/.test(role) || role === '.' || role === '..') {
    return `${quoteValue(role)} is not a valid ClusterRole name (no '/', '%' or spaces, at most 253 characters)`;
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
    return `${quoteValue(role)} is not one of the cluster roles the operator allows (${allowed.join(', ')}; see --tenant-cluster-role)`;
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
  if (hasControlChar(entry)) return `${quoteValue(entry)} contains a control character`;
  const slash = entry.lastIndexOf('/');
  const group = slash >= 0 ? entry.slice(0, slash) : undefined;
  const kind = slash >= 0 ? entry.slice(slash + 1) : entry;
  if (group !== undefined && (group.length > 253 || !DNS1123_SUBDOMAIN.test(group))) {
    return `${quoteValue(entry)}: the API group must be a DNS subdomain ("Kind" or "group/Kind", e.g. "rbac.authorization.k8s.io/ClusterRole")`;
  }
  if (!KIND.test(kind)) {
    return `${quoteValue(entry)}: ${quoteValue(kind)} is not a Kubernetes kind (CamelCase letters and digits, e.g. "ClusterRole")`;
  }
  if (kind === 'Namespace' && (group === undefined || group === '')) {
    return `${quoteValue(entry)}: Namespace cannot be granted (a tenant's own namespaces are always allowed, others never)`;
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
