// Builders of hub records for unit specs.
import type { Assignment, Repo, Tenant } from '../../proto/index.js';

export const SHA1 = '1'.repeat(40);
export const SHA2 = '2'.repeat(40);

export function tenant(name: string, namespaces = [name]): Tenant {
  return { name, namespaces, serviceAccount: 'gitfleet-reconciler', clusterRole: 'admin', createdAtMs: 1 };
}

export function repo(tenantName: string, name: string, fields: Partial<Repo> = {}): Repo {
  return {
    tenant: tenantName,
    name,
    type: 'git',
    url: `https://git.example.com/${tenantName}/${name}.git`,
    branch: 'main',
    tag: '',
    commit: '',
    intervalSeconds: 60,
    credentials: undefined,
    revision: `main@sha1:${SHA1}`,
    resolvedAtMs: 1,
    resolveError: '',
    createdAtMs: 1,
    hasCredentials: false,
    ...fields,
  };
}

export function assignment(tenantName: string, name: string, fields: Partial<Assignment> = {}): Assignment {
  return {
    tenant: tenantName,
    name,
    repo: 'app',
    path: 'deploy',
    clusters: [],
    selector: {},
    targetNamespace: tenantName,
    prune: true,
    suspend: false,
    renderer: 'auto',
    createdAtMs: 1,
    updatedAtMs: 1,
    ...fields,
  };
}
