import { Inject, Injectable } from '@nestjs/common';
import type { Cluster } from '../../proto/index.js';
import type { ClusterSpec } from './cluster.validation.js';
import { toJson, type HubDb } from '../store/database.js';
import { clusterFromRow } from '../store/rows.js';
import { HUB_DB } from '../store/store.module.js';

@Injectable()
export class ClustersRepository {
  constructor(@Inject(HUB_DB) private readonly db: HubDb) {}

  async insert(cluster: Cluster): Promise<void> {
    await this.db
      .insertInto('clusters')
      .values({
        name: cluster.name,
        labels: toJson(cluster.labels),
        agent_version: '',
        last_heartbeat_ms: 0,
        desired_generation: 0,
        desired_hash: '',
        observed_generation: 0,
        created_at_ms: cluster.createdAtMs,
        agent_public_key: '',
        joined_at_ms: 0,
        desired_set_error: '',
        vars: toJson(cluster.vars),
        maintenance_windows: toJson(cluster.maintenanceWindows),
      })
      .execute();
  }

  async get(name: string): Promise<Cluster | undefined> {
    const row = await this.db.selectFrom('clusters').selectAll().where('name', '=', name).executeTakeFirst();
    return row && clusterFromRow(row);
  }

  async list(): Promise<Cluster[]> {
    const rows = await this.db.selectFrom('clusters').selectAll().orderBy('name').execute();
    return rows.map(clusterFromRow);
  }

  /** Stores the cluster's spec (labels, vars, windows); false when it does not exist. */
  async updateSpec(spec: ClusterSpec): Promise<boolean> {
    const { name, labels, vars, maintenanceWindows } = spec;
    const res = await this.db
      .updateTable('clusters')
      .set({ labels: toJson(labels), vars: toJson(vars), maintenance_windows: toJson(maintenanceWindows) })
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** Deletes the cluster and (by cascade) its status rows; false when it did not exist. */
  async delete(name: string): Promise<boolean> {
    const res = await this.db.deleteFrom('clusters').where('name', '=', name).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}
