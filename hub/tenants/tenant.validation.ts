// Validation and defaults of a tenant (pure). The tenant's identity on a cluster is the hub's
// choice, never the caller's: the ServiceAccount is always DEFAULT_SERVICE_ACCOUNT, the cluster
// role one the operator allows, and no reserved namespace is ever granted.
import {
  checkVars,
  clusterKindProblem,
  DEFAULT_CLUSTER_ROLE,
  DEFAULT_SERVICE_ACCOUNT,
  DEFAULT_TENANT_CLUSTER_ROLES,
  hasControlChars,
  quote,
  reservedNamespaceProblem,
  tenantClusterRoleProblem,
  type Tenant,
} from '../../proto/index.js';
import { ValidationError } from '../common/errors.js';
import { checkDnsLabel } from '../common/names.js';

export type TenantSpec = Omit<Tenant, 'createdAtMs'>;

/** A string field of the request: no control characters (NUL etc.) anywhere. */
function checkText(field: string, value: string): string {
  if (hasControlChars(value))
    throw new ValidationError(field, `${quote(value)} contains a control character`);
  return value;
}

export function validateTenant(
  input: Partial<Tenant> | null | undefined,
  allowedClusterRoles: readonly string[] = DEFAULT_TENANT_CLUSTER_ROLES,
): TenantSpec {
  if (!input) throw new ValidationError('tenant', 'required');
  const name = checkDnsLabel('tenant.name', checkText('tenant.name', input.name ?? ''));
  const namespaces = input.namespaces ?? [];
  if (namespaces.length === 0) {
    throw new ValidationError('tenant.namespaces', 'at least one namespace is required');
  }
  const seen = new Set<string>();
  namespaces.forEach((ns, i) => {
    const field = `tenant.namespaces[${i}]`;
    checkDnsLabel(field, checkText(field, ns));
    const reserved = reservedNamespaceProblem(ns);
    if (reserved) throw new ValidationError(field, `${reserved}: choose a namespace of the tenant's own`);
    if (seen.has(ns)) throw new ValidationError(field, `${JSON.stringify(ns)} is listed twice`);
    seen.add(ns);
  });
  const serviceAccount = checkText('tenant.service_account', input.serviceAccount ?? '');
  if (serviceAccount !== '' && serviceAccount !== DEFAULT_SERVICE_ACCOUNT) {
    throw new ValidationError(
      'tenant.service_account',
      `${quote(serviceAccount)}: the ServiceAccount is chosen by the hub (${DEFAULT_SERVICE_ACCOUNT}); leave it empty`,
    );
  }
  const clusterRole = input.clusterRole || DEFAULT_CLUSTER_ROLE;
  const roleProblem = tenantClusterRoleProblem(clusterRole, allowedClusterRoles);
  if (roleProblem) throw new ValidationError('tenant.cluster_role', roleProblem);
  const kinds = new Set<string>();
  (input.allowedClusterKinds ?? []).forEach((kind, i) => {
    const problem = clusterKindProblem(kind);
    if (problem) throw new ValidationError(`tenant.allowed_cluster_kinds[${i}]`, problem);
    kinds.add(kind);
  });
  return {
    name,
    namespaces: [...namespaces],
    serviceAccount: DEFAULT_SERVICE_ACCOUNT,
    clusterRole,
    allowedClusterKinds: [...kinds].sort(),
    vars: checkVars('tenant.vars', input.vars),
  };
}
