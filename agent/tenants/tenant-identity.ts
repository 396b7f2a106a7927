// The agent's own check of a tenant identity received on the bus, before anything is created for
// it: the same rules the hub applies (proto/contract/tenancy), plus what only the agent knows
// (its own namespace, its cluster-role allowlist, the other tenants of the same desired set). A
// forged or stale desired set therefore cannot make the agent bind a system account, claim
// kube-system or the agent's namespace, or act as another tenant's ServiceAccount.
import {
  clusterKindProblem,
  DEFAULT_CLUSTER_ROLE,
  DEFAULT_SERVICE_ACCOUNT,
  quote,
  Reason,
  reservedNamespaceProblem,
  tenantClusterRoleProblem,
  type TenantIdentity,
} from '../../proto/index.js';
import { isDnsLabel } from '../../lib/names.js';
import { ReconcileError } from '../errors.js';

export interface TenantIdentityRules {
  /** The agent's own namespace (inventories, state): never a tenant's. */
  agentNamespace: string;
  /** ClusterRoles a tenant may be bound to on this cluster. */
  clusterRoles: readonly string[];
}

/** Why `t` must not be onboarded (naming the field), or undefined. `peers` is its desired set's tenants. */
export function tenantIdentityProblem(
  t: TenantIdentity,
  peers: readonly TenantIdentity[],
  rules: TenantIdentityRules,
): string | undefined {
  if (!isDnsLabel(t.name)) return `name ${quote(t.name)} is not a valid tenant name`;
  if (t.namespaces.length === 0) return 'namespaces: none given';
  const seen = new Set<string>();
  for (const [i, ns] of t.namespaces.entries()) {
    const field = `namespaces[${i}]`;
    if (!isDnsLabel(ns)) return `${field}: ${quote(ns)} is not a valid namespace name`;
    const reserved = reservedNamespaceProblem(ns, rules.agentNamespace);
    if (reserved) return `${field}: ${reserved}`;
    if (seen.has(ns)) return `${field}: ${quote(ns)} is listed twice`;
    seen.add(ns);
    const other = peers.find((p) => p.name !== t.name && p.namespaces.includes(ns));
    if (other) return `${field}: namespace ${quote(ns)} is also claimed by tenant ${other.name}`;
  }
  const sa = t.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
  if (sa !== DEFAULT_SERVICE_ACCOUNT) {
    return `service_account: ${quote(sa)} is not ${DEFAULT_SERVICE_ACCOUNT}, the only ServiceAccount tenants are applied as`;
  }
  const roleProblem = tenantClusterRoleProblem(t.clusterRole || DEFAULT_CLUSTER_ROLE, rules.clusterRoles);
  if (roleProblem) return `cluster_role: ${roleProblem}`;
  for (const [i, kind] of t.allowedClusterKinds.entries()) {
    const problem = clusterKindProblem(kind);
    if (problem) return `allowed_cluster_kinds[${i}]: ${problem}`;
  }
  return undefined;
}

/** Throws TenantSetupFailed (stalled: only a new desired set can change it) when `t` is refused. */
export function checkTenantIdentity(
  t: TenantIdentity,
  peers: readonly TenantIdentity[],
  rules: TenantIdentityRules,
): void {
  const problem = tenantIdentityProblem(t, peers, rules);
  if (problem) {
    throw new ReconcileError(
      Reason.TenantSetupFailed,
      `tenant ${quote(t.name)} refused: ${problem}; nothing was created for it`,
      { stalled: true },
    );
  }
}
