// Store I/O of the desired-set projection: the snapshot it computes from and the per-cluster
// generation and content hash it persists.
import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import type { HubDb } from '../store/database.js';
import {
  assignmentFromRow,
  chunks,
  groupFromRow,
  repoFromRow,
  tenantFromRow,
  stringsFromJson,
  varsFromJson,
} from '../store/rows.js';
import { HUB_DB, HUB_SECRETS } from '../store/store.module.js';
import type { SecretBox } from '../store/secret-box.js';
import { fromJson } from '../store/database.js';
import { stableRevision } from '../rollouts/rollout-plan.js';
import { buildSnapshot, repoKey, type DesiredSnapshot, type RolloutPins } from './desired-set.js';

export interface ClusterProjectionState {
  name: string;
  labels: Record<string, string>;
  vars: Record<string, string>;
  maintenanceWindows: string[];
  desiredGeneration: number;
  desiredHash: string;
}

/** Rows per UPDATE statement (3 parameters each, well under SQLite's parameter limit). */
const GENERATION_CHUNK = 1000;

export interface GenerationUpdate {
  name: string;
  generation: number;
  hash: string;
}

@Injectable()
export class DesiredRepository {
  constructor(
    @Inject(HUB_DB) private readonly db: HubDb,
    @Inject(HUB_SECRETS) private readonly secrets: SecretBox,
  ) {}

  async loadSnapshot(): Promise<DesiredSnapshot> {
    const [tenants, repos, assignments, groups, rollouts] = await Promise.all([
      this.db.selectFrom('tenants').selectAll().execute(),
      this.db.selectFrom('repos').selectAll().execute(),
      this.db.selectFrom('assignments').selectAll().execute(),
      this.db.selectFrom('cluster_groups').selectAll().execute(),
      this.loadRolloutPins(),
    ]);
    return buildSnapshot(
      tenants.map(tenantFromRow),
      repos.map((r) => repoFromRow(r, this.secrets)),
      assignments.map(assignmentFromRow),
      groups.map(groupFromRow),
      rollouts,
    );
  }

  /** The pins of every staged rollout (both tables are empty without rollout options). */
  private async loadRolloutPins(): Promise<Map<string, RolloutPins>> {
    const [rollouts, pins] = await Promise.all([
      this.db
        .selectFrom('rollouts')
        .select(['tenant', 'assignment', 'state', 'revision', 'previous_revision'])
        .execute(),
      this.db.selectFrom('rollout_pins').select(['tenant', 'assignment', 'cluster', 'revision']).execute(),
    ]);
    const out = new Map<string, { pins: Map<string, string>; fallback: string }>();
    for (const r of rollouts) {
      out.set(repoKey(r.tenant, r.assignment), {
        pins: new Map(),
        fallback: stableRevision({
          state: r.state,
          revision: r.revision,
          previousRevision: r.previous_revision,
        }),
      });
    }
    for (const p of pins) out.get(repoKey(p.tenant, p.assignment))?.pins.set(p.cluster, p.revision);
    return out;
  }

  /** Every cluster (names undefined) or the named ones that exist. */
  async loadClusters(names?: readonly string[]): Promise<ClusterProjectionState[]> {
    const query = this.db
      .selectFrom('clusters')
      .select(['name', 'labels', 'vars', 'maintenance_windows', 'desired_generation', 'desired_hash'])
      .orderBy('name');
    const rows =
      names === undefined
        ? await query.execute()
        : (await Promise.all(chunks(names).map((c) => query.where('name', 'in', c).execute()))).flat();
    return rows.map((r) => ({
      name: r.name,
      labels: fromJson<Record<string, string>>(r.labels, {}),
      vars: varsFromJson(r.vars),
      maintenanceWindows: stringsFromJson(r.maintenance_windows),
      desiredGeneration: Number(r.desired_generation),
      desiredHash: r.desired_hash,
    }));
  }

  /**
   * Persists new generations and hashes: one UPDATE … FROM (VALUES …) per chunk of clusters
   * (SQLite ≥ 3.33 and PostgreSQL), not one statement per cluster.
   */
  async saveGenerations(updates: readonly GenerationUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    await this.db.transaction().execute(async (tx) => {
      for (const chunk of chunks(updates, GENERATION_CHUNK)) {
        const values = sql.join(chunk.map((u) => sql`(${u.name}, ${u.generation}, ${u.hash})`));
        await sql`update clusters set desired_generation = v.column2, desired_hash = v.column3
          from (values ${values}) as v where clusters.name = v.column1`.execute(tx);
      }
    });
  }

  /** The bus holds a newer generation than the store (e.g. a restored store): continue above it. */
  async raiseGeneration(name: string, atLeast: number): Promise<void> {
    await this.db
      .updateTable('clusters')
      .set({
        desired_generation: sql<number>`case when desired_generation < ${atLeast} then ${atLeast} else desired_generation end`,
        desired_hash: '',
      })
      .where('name', '=', name)
      .execute();
  }
}
