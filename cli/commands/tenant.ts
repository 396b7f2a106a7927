// gitfleet tenant create | update | get | list | delete
import type { Command } from 'commander';
import { DEFAULT_CLUSTER_ROLE, DEFAULT_SERVICE_ACCOUNT, type Tenant } from '../../proto/index.js';
import { age, type Column } from '../output.js';
import { collect, parseVars } from '../parse.js';
import { nounCommand, writeVerb } from './verbs.js';

const columns: Column<Tenant>[] = [
  { header: 'NAME', get: (t) => t.name },
  { header: 'NAMESPACES', get: (t) => t.namespaces.join(',') },
  { header: 'SERVICE-ACCOUNT', get: (t) => t.serviceAccount },
  { header: 'CLUSTER-ROLE', get: (t) => t.clusterRole },
  { header: 'CLUSTER-KINDS', get: (t) => t.allowedClusterKinds.join(',') },
  { header: 'AGE', get: (t) => age(t.createdAtMs) },
];

interface TenantFlags {
  namespace: string[];
  clusterRole: string;
  allowClusterKind?: string[];
  var?: string[];
}

/** The flags create and update share: update replaces the whole spec, as create sets it. */
function tenantFlags(c: Command): Command {
  return c
    .requiredOption(
      '--namespace <ns>',
      'a namespace the tenant owns exclusively (repeat for more; not kube-*, default or gitfleet-*)',
      collect,
    )
    .option(
      '--cluster-role <role>',
      'ClusterRole bound in each tenant namespace (one the operator allows: gitfleet hub --tenant-cluster-role)',
      DEFAULT_CLUSTER_ROLE,
    )
    .option(
      '--allow-cluster-kind <kind>',
      'a cluster-scoped kind the tenant may apply, "Kind" or "group/Kind" (repeat for more)',
      collect,
    )
    .option(
      '--var <name=value>',
      'a substitution variable for every assignment of the tenant that substitutes (repeat for more)',
      collect,
    );
}

function tenantSpec(name: string, o: TenantFlags): Partial<Tenant> {
  return {
    name,
    namespaces: o.namespace,
    clusterRole: o.clusterRole,
    allowedClusterKinds: o.allowClusterKind ?? [],
    vars: parseVars(o.var),
  };
}

export function registerTenant(program: Command): void {
  nounCommand<Tenant>(
    program,
    {
      word: 'tenant',
      plural: 'tenants',
      description: 'tenants: the teams that own repos and assignments',
      columns,
      scoped: false,
      get: (hub, { name }) => hub.tenants.getTenant({ name }),
      list: async (hub) => (await hub.tenants.listTenants({})).tenants,
      remove: async (hub, { name }) => void (await hub.tenants.deleteTenant({ name })),
    },
    (tenant) => {
      writeVerb<Tenant, TenantFlags>(
        tenant,
        'create <name>',
        `create a tenant confined to its namespaces on every cluster (applied as ServiceAccount ${DEFAULT_SERVICE_ACCOUNT})`,
        tenantFlags,
        columns,
        (hub, name, o) => hub.tenants.createTenant({ tenant: tenantSpec(name, o) }),
      );
      writeVerb<Tenant, TenantFlags>(
        tenant,
        'update <name>',
        "replace a tenant's namespaces, cluster role, allowed cluster kinds and variables",
        tenantFlags,
        columns,
        (hub, name, o) => hub.tenants.updateTenant({ tenant: tenantSpec(name, o) }),
      );
    },
  );
}
