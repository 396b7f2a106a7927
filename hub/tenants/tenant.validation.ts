// Validation and defaults of a tenant (pure).
import { DEFAULT_CLUSTER_ROLE, DEFAULT_SERVICE_ACCOUNT, type Tenant } from '../../proto/index.js';
import { ValidationError } from '../common/errors.js';
import { checkDnsLabel } from '../common/names.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export type TenantSpec = Omit<Tenant, 'createdAtMs'>;

export function validateTenant(input: Partial<Tenant> | null | undefined): TenantSpec {
  if (!input) throw new ValidationError('tenant', 'required');
  const name = checkDnsLabel('tenant.name', input.name ?? '');
  const namespaces = input.namespaces ?? [];
  if (namespaces.length === 0) {
    throw new ValidationError('tenant.namespaces', 'at least one namespace is required');
  }
  const seen = new Set<string>();
  namespaces.forEach((ns, i) => {
    checkDnsLabel(`tenant.namespaces[${i}]`, ns);
    if (seen.has(ns))
      throw new ValidationError(`tenant.namespaces[${i}]`, `${JSON.stringify(ns)} is listed twice`);
    seen.add(ns);
  });
  const serviceAccount = input.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
  if (serviceAccount.length > 253 || !DNS1123_SUBDOMAIN.test(serviceAccount)) {
    throw new ValidationError(
      'tenant.service_account',
      `${JSON.stringify(serviceAccount)} is not a valid ServiceAccount name (DNS-1123 subdomain)`,
    );
  }
  const clusterRole = input.clusterRole || DEFAULT_CLUSTER_ROLE;
  if (clusterRole.length > 253 || /[/%\s]/.test(clusterRole) || clusterRole === '.' || clusterRole === '..') {
    throw new ValidationError(
      'tenant.cluster_role',
      `${JSON.stringify(clusterRole)} is not a valid ClusterRole name (no '/', '%' or spaces, at most 253 characters)`,
    );
  }
  return { name, namespaces: [...namespaces], serviceAccount, clusterRole };
}
