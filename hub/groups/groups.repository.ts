import { Inject, Injectable } from '@nestjs/common';
import type { Group } from '../../proto/index.js';
import type { ClusterIdentity } from '../desired/selector.js';
import { fromJson, toJson, type HubDb } from '../store/database.js';
import { groupFromRow, selectorToJson, stringsFromJson } from '../store/rows.js';
import { HUB_DB } from '../store/store.module.js';

function toRow(g: Group) {
  return {
    name: g.name,
    selector: selectorToJson(g.selector),
    clusters: toJson(g.clusters),
    vars: toJson(g.vars),
    created_at_ms: g.createdAtMs,
    updated_at_ms: g.updatedAtMs,
  };
}

@Injectable()
export class GroupsRepository {
  constructor(@Inject(HUB_DB) private readonly db: HubDb) {}

  async insert(g: Group): Promise<void> {
    await this.db.insertInto('cluster_groups').values(toRow(g)).execute();
  }

  /** Replaces the spec; false when the group does not exist. */
  async update(g: Group): Promise<boolean> {
    const { name, created_at_ms: _created, ...rest } = toRow(g);
    const res = await this.db
      .updateTable('cluster_groups')
      .set(rest)
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async get(name: string): Promise<Group | undefined> {
    const row = await this.db
      .selectFrom('cluster_groups')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row && groupFromRow(row);
  }

  async list(): Promise<Group[]> {
    const rows = await this.db.selectFrom('cluster_groups').selectAll().orderBy('name').execute();
    return rows.map(groupFromRow);
  }

  async delete(name: string): Promise<boolean> {
    const res = await this.db.deleteFrom('cluster_groups').where('name', '=', name).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** Every registered cluster's name and labels (what membership needs). */
  async clusters(): Promise<ClusterIdentity[]> {
    const rows = await this.db.selectFrom('clusters').select(['name', 'labels']).orderBy('name').execute();
    return rows.map((r) => ({ name: r.name, labels: fromJson<Record<string, string>>(r.labels, {}) }));
  }

  /** "tenant/name" of the assignments that name the group (in groups or group_vars). */
  async assignmentsUsing(group: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('assignments')
      .select(['tenant', 'name', 'groups', 'group_vars'])
      .orderBy('tenant')
      .orderBy('name')
      .execute();
    return rows
      .filter(
        (r) =>
          stringsFromJson(r.groups).includes(group) ||
          fromJson<Array<{ group?: unknown }>>(r.group_vars, []).some((g) => g?.group === group),
      )
      .map((r) => `${r.tenant}/${r.name}`);
  }
}
