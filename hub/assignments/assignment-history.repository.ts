// Store I/O of assignment history: each revision an assignment's clusters reported as applied,
// with when a cluster first and last reported it. Written by the status ingest, read by
// `gitfleet history` and checked by rollback (only a revision from here may be pinned).
import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { parseGitRevision, parseOciRevision } from '../../proto/index.js';
import type { HubDb } from '../store/database.js';
import { HUB_DB } from '../store/store.module.js';

/** Revisions kept per assignment: the newest by last report; older ones are forgotten. */
export const HISTORY_LIMIT = 50;

/** One revision of an assignment's history, over all its clusters. */
export interface HistoryEntry {
  revision: string;
  firstAppliedAtMs: number;
  lastAppliedAtMs: number;
  clusters: number;
}

/** A revision an agent may report: a git or OCI revision as the hub publishes them, nothing else. */
export function isRecordableRevision(revision: string): boolean {
  if (!revision || revision.length > 400) return false;
  for (const parse of [parseGitRevision, parseOciRevision]) {
    try {
      parse(revision);
      return true;
    } catch {
      // try the other form
    }
  }
  return false;
}

@Injectable()
export class AssignmentHistoryRepository {
  constructor(@Inject(HUB_DB) private readonly db: HubDb) {}

  /**
   * Records that `cluster` reported `revision` of the assignment as applied at `atMs`, then
   * forgets revisions beyond the newest HISTORY_LIMIT when this one is new.
   */
  async recordApplied(
    tenant: string,
    assignment: string,
    cluster: string,
    revision: string,
    atMs: number,
  ): Promise<void> {
    const known = await this.db
      .selectFrom('assignment_history')
      .select('revision')
      .where('tenant', '=', tenant)
      .where('assignment', '=', assignment)
      .where('revision', '=', revision)
      .executeTakeFirst();
    await this.db
      .insertInto('assignment_history')
      .values({
        tenant,
        assignment,
        revision,
        cluster,
        first_applied_at_ms: atMs,
        last_applied_at_ms: atMs,
      })
      .onConflict((oc) =>
        oc.columns(['tenant', 'assignment', 'revision', 'cluster']).doUpdateSet({
          last_applied_at_ms: sql<number>`case when assignment_history.last_applied_at_ms < ${atMs} then ${atMs} else assignment_history.last_applied_at_ms end`,
        }),
      )
      .execute();
    if (!known) await this.trim(tenant, assignment);
  }

  private async trim(tenant: string, assignment: string): Promise<void> {
    const keep = this.db
      .selectFrom('assignment_history')
      .select('revision')
      .where('tenant', '=', tenant)
      .where('assignment', '=', assignment)
      .groupBy('revision')
      .orderBy(sql`max(last_applied_at_ms)`, 'desc')
      .limit(HISTORY_LIMIT);
    await this.db
      .deleteFrom('assignment_history')
      .where('tenant', '=', tenant)
      .where('assignment', '=', assignment)
      .where('revision', 'not in', keep)
      .execute();
  }

  /** The assignment's revisions, newest first (by when a cluster first applied them). */
  async list(tenant: string, assignment: string): Promise<HistoryEntry[]> {
    const rows = await this.db
      .selectFrom('assignment_history')
      .select((eb) => [
        'revision',
        eb.fn.min('first_applied_at_ms').as('first'),
        eb.fn.max('last_applied_at_ms').as('last'),
        eb.fn.count('cluster').as('clusters'),
      ])
      .where('tenant', '=', tenant)
      .where('assignment', '=', assignment)
      .groupBy('revision')
      .orderBy('first', 'desc')
      .orderBy('last', 'desc')
      .orderBy('revision')
      .execute();
    return rows.map((r) => ({
      revision: r.revision,
      firstAppliedAtMs: Number(r.first),
      lastAppliedAtMs: Number(r.last),
      clusters: Number(r.clusters),
    }));
  }
}
