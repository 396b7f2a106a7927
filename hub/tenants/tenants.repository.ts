import { Inject, Injectable } from '@nestjs/common';
import type { Tenant } from '../../proto/index.js';
import { toJson, type HubDb } from '../store/database.js';
import { tenantFromRow } from '../store/rows.js';
import { HUB_DB } from '../store/store.module.js';

export interface TenantDependents {
  repos: string[];
  assignments: string[];
}

@Injectable()
export class TenantsRepository {
  constructor(@Inject(HUB_DB) private readonly db: HubDb) {}

  async insert(tenant: Tenant): Promise<void> {
    await this.db
      .insertInto('tenants')
      .values({
        name: tenant.name,
        namespaces: toJson(tenant.namespaces),
        service_account: tenant.serviceAccount,
        cluster_role: tenant.clusterRole,
        created_at_ms: tenant.createdAtMs,
      })
      .execute();
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
    const [repos, assignments] = await Promise.all([
      this.db.selectFrom('repos').select('name').where('tenant', '=', name).orderBy('name').execute(),
      this.db.selectFrom('assignments').select('name').where('tenant', '=', name).orderBy('name').execute(),
    ]);
    return { repos: repos.map((r) => r.name), assignments: assignments.map((a) => a.name) };
  }

  /** Deletes the tenant; false when it did not exist. */
  async delete(name: string): Promise<boolean> {
    const res = await this.db.deleteFrom('tenants').where('name', '=', name).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}
