// gitfleet tenant create | get | list | delete
import type { Command } from 'commander';
import { DEFAULT_CLUSTER_ROLE, DEFAULT_SERVICE_ACCOUNT, type Tenant } from '../../proto/index.js';
import { age, type Column } from '../output.js';
import { collect } from '../parse.js';
import { nounCommand, writeVerb } from './verbs.js';

const columns: Column<Tenant>[] = [
  { header: 'NAME', get: (t) => t.name },
  { header: 'NAMESPACES', get: (t) => t.namespaces.join(',') },
  { header: 'SERVICE-ACCOUNT', get: (t) => t.serviceAccount },
  { header: 'CLUSTER-ROLE', get: (t) => t.clusterRole },
  { header: 'AGE', get: (t) => age(t.createdAtMs) },
];

interface TenantFlags {
  namespace: string[];
  serviceAccount: string;
  clusterRole: string;
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
        'create a tenant confined to its namespaces on every cluster',
        (c) =>
          c
            .requiredOption('--namespace <ns>', 'a namespace the tenant owns (repeat for more)', collect)
            .option(
              '--service-account <sa>',
              'ServiceAccount the agent impersonates',
              DEFAULT_SERVICE_ACCOUNT,
            )
            .option(
              '--cluster-role <role>',
              'ClusterRole bound in each tenant namespace',
              DEFAULT_CLUSTER_ROLE,
            ),
        columns,
        (hub, name, o) =>
          hub.tenants.createTenant({
            tenant: {
              name,
              namespaces: o.namespace,
              serviceAccount: o.serviceAccount,
              clusterRole: o.clusterRole,
            },
          }),
      );
    },
  );
}
