// Store I/O of status: the latest report per cluster × tenant × assignment and the clusters'
// heartbeat columns.
import { Inject, Injectable } from '@nestjs/common';
import {
  MAX_NOT_READY,
  MAX_NOT_READY_LENGTH,
  type AssignmentStatus,
  type Cluster,
} from '../../proto/index.js';
import { toJson, type HubDb } from '../store/database.js';
import { chunks, clusterFromRow, statusFromRow } from '../store/rows.js';
import { HUB_DB } from '../store/store.module.js';
import type { StatusFilter } from './status-view.js';

export interface HeartbeatRecord {
  cluster: string;
  agentVersion: string;
  observedGeneration: number;
  atMs: number;
  /** Why the agent refused its last desired set ("" when it accepted it); bounded by the caller. */
  desiredSetError: string;
}

@Injectable()
export class StatusRepository {
  constructor(@Inject(HUB_DB) private readonly db: HubDb) {}

  async clusterExists(name: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('clusters')
      .select('name')
      .where('name', '=', name)
      .executeTakeFirst();
    return row !== undefined;
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

  /** The stored state of one cluster × assignment (AssignmentState), undefined before its first report. */
  async stateOf(cluster: string, tenant: string, assignment: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('assignment_status')
      .select('state')
      .where('cluster', '=', cluster)
      .where('tenant', '=', tenant)
      .where('assignment', '=', assignment)
      .executeTakeFirst();
    return row?.state;
  }

  /**
   * Stores a status unless a later one of the same cluster × assignment is stored already (by the
   * pass's start, then its end): a report redelivered or replayed late never rolls status back.
   * True when it was stored.
   */
  async upsert(s: AssignmentStatus, receivedAtMs: number): Promise<boolean> {
    const values = {
      state: s.state,
      reason: s.reason,
      message: s.message,
      desired_revision: s.desiredRevision,
      applied_revision: s.appliedRevision,
      observed_generation: s.observedGeneration,
      created: s.changes?.created ?? 0,
      configured: s.changes?.configured ?? 0,
      unchanged: s.changes?.unchanged ?? 0,
      deleted: s.changes?.deleted ?? 0,
      objects: s.objects,
      started_at_ms: s.startedAtMs,
      finished_at_ms: s.finishedAtMs,
      received_at_ms: receivedAtMs,
      conditions: toJson(s.conditions ?? []),
      // an agent's text: bounded like its message
      not_ready: toJson(
        (s.notReady ?? []).slice(0, MAX_NOT_READY).map((n) => n.slice(0, MAX_NOT_READY_LENGTH)),
      ),
      next_retry_at_ms: s.nextRetryAtMs ?? 0,
      waiting_for: toJson(s.waitingFor ?? []),
      drifted: toJson(s.drifted ?? []),
    };
    const res = await this.db
      .insertInto('assignment_status')
      .values({ cluster: s.cluster, tenant: s.tenant, assignment: s.assignment, ...values })
      .onConflict((oc) =>
        oc
          .columns(['cluster', 'tenant', 'assignment'])
          .doUpdateSet(values)
          .where((eb) =>
            eb.or([
              eb('excluded.started_at_ms', '>', eb.ref('assignment_status.started_at_ms')),
              eb.and([
                eb('excluded.started_at_ms', '=', eb.ref('assignment_status.started_at_ms')),
                eb('excluded.finished_at_ms', '>=', eb.ref('assignment_status.finished_at_ms')),
              ]),
            ]),
          ),
      )
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Records a heartbeat unless a later one is already recorded (redeliveries arrive late). */
  async recordHeartbeat(h: HeartbeatRecord): Promise<boolean> {
    const res = await this.db
      .updateTable('clusters')
      .set({
        agent_version: h.agentVersion,
        observed_generation: h.observedGeneration,
        last_heartbeat_ms: h.atMs,
        desired_set_error: h.desiredSetError,
      })
      .where('name', '=', h.cluster)
      .where('last_heartbeat_ms', '<=', h.atMs)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async listStatuses(filter: StatusFilter, clusters?: readonly string[]): Promise<AssignmentStatus[]> {
    let q = this.db.selectFrom('assignment_status').selectAll();
    if (filter.tenant) q = q.where('tenant', '=', filter.tenant);
    if (filter.cluster) q = q.where('cluster', '=', filter.cluster);
    if (filter.assignment) q = q.where('assignment', '=', filter.assignment);
    const rows =
      clusters === undefined
        ? await q.execute()
        : (await Promise.all(chunks(clusters).map((c) => q.where('cluster', 'in', c).execute()))).flat();
    return rows.map(statusFromRow);
  }

  async listClusters(names?: readonly string[]): Promise<Cluster[]> {
    const q = this.db.selectFrom('clusters').selectAll().orderBy('name');
    const rows =
      names === undefined
        ? await q.execute()
        : (await Promise.all(chunks(names).map((c) => q.where('name', 'in', c).execute()))).flat();
    return rows.map(clusterFromRow);
  }
}
