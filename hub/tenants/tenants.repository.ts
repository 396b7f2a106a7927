import { Inject, Injectable } from '@nestjs/common';
import type { Kysely } from 'kysely';
import type { Assignment, Tenant } from '../../proto/index.js';
import { toJson, type HubDb } from '../store/database.js';
import { assignmentFromRow, tenantFromRow } from '../store/rows.js';
import type { HubDatabase } from '../store/schema.js';
import { HUB_DB } from '../store/store.module.js';

export interface TenantDependents {
  repos: string[];
  assignments: string[];
  alerts: string[];
}

@Injectable()
export class TenantsRepository {
  constructor(@Inject(HUB_DB) private readonly db: HubDb) {}

  /**
   * Inserts the tenant and claims its namespaces in one transaction. A namespace another tenant
   * owns fails the unique index on tenant_namespaces (a unique violation), so two tenants created
   * at the same moment can never both own it.
   */
  async insert(tenant: Tenant): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('tenants')
        .values({
          name: tenant.name,
          namespaces: toJson(tenant.namespaces),
          service_account: tenant.serviceAccount,
          cluster_role: tenant.clusterRole,
          allowed_cluster_kinds: toJson(tenant.allowedClusterKinds),
          vars: toJson(tenant.vars),
          created_at_ms: tenant.createdAtMs,
        })
        .execute();
      await claimNamespaces(tx, tenant);
    });
  }

  /** Replaces the tenant's spec and its namespace claims in one transaction; false when it is gone. */
  async update(tenant: Tenant): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const res = await tx
        .updateTable('tenants')
        .set({
          namespaces: toJson(tenant.namespaces),
          service_account: tenant.serviceAccount,
          cluster_role: tenant.clusterRole,
          allowed_cluster_kinds: toJson(tenant.allowedClusterKinds),
          vars: toJson(tenant.vars),
        })
        .where('name', '=', tenant.name)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) return false;
      await tx.deleteFrom('tenant_namespaces').where('tenant', '=', tenant.name).execute();
      await claimNamespaces(tx, tenant);
      return true;
    });
  }

  /** The namespaces of `namespaces` that a tenant other than `except` owns, with their owner. */
  async ownersOf(namespaces: readonly string[], except: string): Promise<Map<string, string>> {
    if (namespaces.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('tenant_namespaces')
      .select(['namespace', 'tenant'])
      .where('namespace', 'in', [...namespaces])
      .where('tenant', '!=', except)
      .execute();
    return new Map(rows.map((r) => [r.namespace, r.tenant]));
  }

  /** The tenant's assignments (to re-project the clusters they select after an update). */
  async assignments(name: string): Promise<Assignment[]> {
    const rows = await this.db.selectFrom('assignments').selectAll().where('tenant', '=', name).execute();
    return rows.map(assignmentFromRow);
  }

  async get(name: string): Promise<Tenant | undefined> {
    const row = await this.db.selectFrom('tenants').selectAll().where('name', '=', name).executeTakeFirst();
    return row && tenantFromRow(row);
  }

  async list(): Promise<Tenant[]> {
    const rows = await this.db.selectFrom('tenants').selectAll().orderBy('name').execute();
    return rows.map(tenantFromRow);
  }

  async dependents(name: string): Promise<TenantDependents> {
    const [repos, assignments, alerts] = await Promise.all([
      this.db.selectFrom('repos').select('name').where('tenant', '=', name).orderBy('name').execute(),
      this.db.selectFrom('assignments').select('name').where('tenant', '=', name).orderBy('name').execute(),
      this.db.selectFrom('alerts').select('name').where('tenant', '=', name).orderBy('name').execute(),
    ]);
    return {
      repos: repos.map((r) => r.name),
      assignments: assignments.map((a) => a.name),
      alerts: alerts.map((a) => a.name),
    };
  }

  /** Deletes the tenant; false when it did not exist. */
  async delete(name: string): Promise<boolean> {
    const res = await this.db.deleteFrom('tenants').where('name', '=', name).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}

async function claimNamespaces(tx: Kysely<HubDatabase>, tenant: Tenant): Promise<void> {
  await tx
    .insertInto('tenant_namespaces')
    .values(tenant.namespaces.map((namespace) => ({ namespace, tenant: tenant.name })))
    .execute();
}
