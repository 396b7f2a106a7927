// Store I/O of staged rollouts: the assignments with rollout options, their rollout records, the
// per-cluster pins, and what the plan reads (repos' revisions and URLs, clusters, status rows).
import { Inject, Injectable } from '@nestjs/common';
import type { Assignment, AssignmentStatus, Group } from '../../proto/index.js';
import { fromJson, type HubDb } from '../store/database.js';
import { assignmentFromRow, groupFromRow, statusFromRow } from '../store/rows.js';
import { HUB_DB } from '../store/store.module.js';
import type { RolloutRecord } from './rollout-plan.js';

/** tenant/assignment (or tenant/repo) */
export function rolloutKey(tenant: string, name: string): string {
  return `${tenant}/${name}`;
}

export interface RolloutClusterRow {
  name: string;
  labels: Record<string, string>;
  lastHeartbeatMs: number;
}

@Injectable()
export class RolloutsRepository {
  constructor(@Inject(HUB_DB) private readonly db: HubDb) {}

  /** Assignments with rollout options (none: the driver has nothing to do). */
  async rolloutAssignments(tenant?: string, name?: string): Promise<Assignment[]> {
    let q = this.db.selectFrom('assignments').selectAll().where('rollout', '!=', '{}');
    if (tenant) q = q.where('tenant', '=', tenant);
    if (name) q = q.where('name', '=', name);
    return (await q.orderBy('tenant').orderBy('name').execute()).map(assignmentFromRow);
  }

  async assignmentExists(tenant: string, name: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('assignments')
      .select('name')
      .where('tenant', '=', tenant)
      .where('name', '=', name)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Forgets the rollouts and pins of assignments whose rollout options were removed. */
  async deleteWithoutOptions(): Promise<void> {
    for (const table of ['rollouts', 'rollout_pins'] as const) {
      await this.db
        .deleteFrom(table)
        .where(({ exists, selectFrom }) =>
          exists(
            selectFrom('assignments')
              .select('name')
              .whereRef('assignments.tenant', '=', `${table}.tenant`)
              .whereRef('assignments.name', '=', `${table}.assignment`)
              .where('assignments.rollout', '=', '{}'),
          ),
        )
        .execute();
    }
  }

  async records(): Promise<Map<string, RolloutRecord>> {
    const rows = await this.db.selectFrom('rollouts').selectAll().execute();
    return new Map(
      rows.map((r) => [
        rolloutKey(r.tenant, r.assignment),
        {
          tenant: r.tenant,
          assignment: r.assignment,
          revision: r.revision,
          previousRevision: r.previous_revision,
          state: r.state,
          stage: Number(r.stage),
          soakStartedAtMs: Number(r.soak_started_at_ms),
          message: r.message,
          startedAtMs: Number(r.started_at_ms),
          updatedAtMs: Number(r.updated_at_ms),
        },
      ]),
    );
  }

  /** tenant/assignment → cluster → pinned revision */
  async pins(): Promise<Map<string, Map<string, string>>> {
    const rows = await this.db
      .selectFrom('rollout_pins')
      .select(['tenant', 'assignment', 'cluster', 'revision'])
      .execute();
    const out = new Map<string, Map<string, string>>();
    for (const r of rows) {
      const key = rolloutKey(r.tenant, r.assignment);
      let m = out.get(key);
      if (!m) out.set(key, (m = new Map()));
      m.set(r.cluster, r.revision);
    }
    return out;
  }

  /** tenant/repo → its resolved revision and URL */
  async repos(): Promise<Map<string, { revision: string; url: string }>> {
    const rows = await this.db.selectFrom('repos').select(['tenant', 'name', 'revision', 'url']).execute();
    return new Map(rows.map((r) => [rolloutKey(r.tenant, r.name), { revision: r.revision, url: r.url }]));
  }

  /** Every cluster group (a rollout's clusters are the ones its assignment selects, groups included). */
  async groups(): Promise<Group[]> {
    return (await this.db.selectFrom('cluster_groups').selectAll().orderBy('name').execute()).map(
      groupFromRow,
    );
  }

  async clusters(): Promise<RolloutClusterRow[]> {
    const rows = await this.db
      .selectFrom('clusters')
      .select(['name', 'labels', 'last_heartbeat_ms'])
      .orderBy('name')
      .execute();
    return rows.map((r) => ({
      name: r.name,
      labels: fromJson<Record<string, string>>(r.labels, {}),
      lastHeartbeatMs: Number(r.last_heartbeat_ms ?? 0),
    }));
  }

  /** tenant/assignment → cluster → its last report */
  async statuses(assignments: readonly Assignment[]): Promise<Map<string, Map<string, AssignmentStatus>>> {
    const out = new Map<string, Map<string, AssignmentStatus>>();
    const tenants = [...new Set(assignments.map((a) => a.tenant))];
    if (tenants.length === 0) return out;
    const wanted = new Set(assignments.map((a) => rolloutKey(a.tenant, a.name)));
    const rows = await this.db
      .selectFrom('assignment_status')
      .selectAll()
      .where('tenant', 'in', tenants)
      .execute();
    for (const row of rows) {
      const key = rolloutKey(row.tenant, row.assignment);
      if (!wanted.has(key)) continue;
      let m = out.get(key);
      if (!m) out.set(key, (m = new Map()));
      m.set(row.cluster, statusFromRow(row));
    }
    return out;
  }

  /** Stores a rollout's record and its pin changes in one transaction. */
  async save(
    record: RolloutRecord,
    pins: ReadonlyArray<readonly [string, string]>,
    dropped: readonly string[],
    atMs: number,
  ): Promise<void> {
    const values = {
      revision: record.revision,
      previous_revision: record.previousRevision,
      state: record.state,
      stage: record.stage,
      soak_started_at_ms: record.soakStartedAtMs,
      message: record.message,
      started_at_ms: record.startedAtMs,
      updated_at_ms: record.updatedAtMs,
    };
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('rollouts')
        .values({ tenant: record.tenant, assignment: record.assignment, ...values })
        .onConflict((oc) => oc.columns(['tenant', 'assignment']).doUpdateSet(values))
        .execute();
      for (const [cluster, revision] of pins) {
        await tx
          .insertInto('rollout_pins')
          .values({
            tenant: record.tenant,
            assignment: record.assignment,
            cluster,
            revision,
            pinned_at_ms: atMs,
          })
          .onConflict((oc) =>
            oc.columns(['tenant', 'assignment', 'cluster']).doUpdateSet({ revision, pinned_at_ms: atMs }),
          )
          .execute();
      }
      if (dropped.length > 0) {
        await tx
          .deleteFrom('rollout_pins')
          .where('tenant', '=', record.tenant)
          .where('assignment', '=', record.assignment)
          .where('cluster', 'in', dropped)
          .execute();
      }
    });
  }
}
