import { Inject, Injectable } from '@nestjs/common';
import type { Assignment } from '../../proto/index.js';
import type { Group } from '../../proto/index.js';
import { clusterGroups, type ClusterIdentity } from '../desired/selector.js';
import { fromJson, toJson, type HubDb } from '../store/database.js';
import {
  assignmentFromRow,
  driftToJson,
  healthToJson,
  helmToJson,
  rolloutToJson,
  substitutionToJson,
} from '../store/rows.js';
import { HUB_DB } from '../store/store.module.js';
import { GroupsRepository } from '../groups/groups.repository.js';

function toRow(a: Assignment) {
  return {
    tenant: a.tenant,
    name: a.name,
    repo: a.repo,
    path: a.path,
    clusters: toJson(a.clusters),
    selector: toJson(a.selector),
    match_expressions: toJson(a.matchExpressions ?? []),
    groups: toJson(a.groups ?? []),
    group_vars: toJson(a.groupVars ?? []),
    target_namespace: a.targetNamespace,
    prune: a.prune ? 1 : 0,
    suspend: a.suspend ? 1 : 0,
    renderer: a.renderer,
    helm: helmToJson(a.helm),
    created_at_ms: a.createdAtMs,
    updated_at_ms: a.updatedAtMs,
    substitute: substitutionToJson(a.substitute),
    decryption_secret: a.decryptionSecret,
    health: healthToJson(a.health),
    pinned_revision: a.pinnedRevision,
    depends_on: toJson(a.dependsOn),
    retry_interval_seconds: a.retryIntervalSeconds,
    drift: driftToJson(a.drift),
    force: a.force ? 1 : 0,
    rollout: rolloutToJson(a.rollout),
  };
}

@Injectable()
export class AssignmentsRepository {
  constructor(
    @Inject(HUB_DB) private readonly db: HubDb,
    @Inject(GroupsRepository) private readonly groups: GroupsRepository,
  ) {}

  async insert(a: Assignment): Promise<void> {
    await this.db.insertInto('assignments').values(toRow(a)).execute();
  }

  /** Replaces the spec; false when the assignment does not exist. */
  async update(a: Assignment): Promise<boolean> {
    // the pin is rollback's (setPin): an update never overwrites one set meanwhile
    const { tenant, name, created_at_ms: _created, pinned_revision: _pin, ...rest } = toRow(a);
    const res = await this.db
      .updateTable('assignments')
      .set(rest)
      .where('tenant', '=', tenant)
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** Pins the assignment to a revision ('' unpins); false when the assignment does not exist. */
  async setPin(tenant: string, name: string, revision: string, atMs: number): Promise<boolean> {
    const res = await this.db
      .updateTable('assignments')
      .set({ pinned_revision: revision, updated_at_ms: atMs })
      .where('tenant', '=', tenant)
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** Every registered cluster's name and labels, and the groups it is in (what selection needs). */
  async clusterIdentities(): Promise<Array<ClusterIdentity & { inGroups: Group[] }>> {
    const [rows, groups] = await Promise.all([
      this.db.selectFrom('clusters').select(['name', 'labels']).execute(),
      this.groups.list(),
    ]);
    return rows.map((r) => {
      const cluster = { name: r.name, labels: fromJson<Record<string, string>>(r.labels, {}) };
      return { ...cluster, inGroups: clusterGroups(cluster, groups) };
    });
  }

  async get(tenant: string, name: string): Promise<Assignment | undefined> {
    const row = await this.db
      .selectFrom('assignments')
      .selectAll()
      .where('tenant', '=', tenant)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && assignmentFromRow(row);
  }

  async list(tenant?: string): Promise<Assignment[]> {
    let q = this.db.selectFrom('assignments').selectAll();
    if (tenant) q = q.where('tenant', '=', tenant);
    const rows = await q.orderBy('tenant').orderBy('name').execute();
    return rows.map(assignmentFromRow);
  }

  async repoExists(tenant: string, repo: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('repos')
      .select('name')
      .where('tenant', '=', tenant)
      .where('name', '=', repo)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Deletes the assignment and (by cascade) its status rows. */
  async delete(tenant: string, name: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom('assignments')
      .where('tenant', '=', tenant)
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}
