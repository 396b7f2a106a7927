// Store I/O of alerts. The URL (it may hold a token) and the secret are sealed at rest with the
// hub's secret key, as repo credentials are; what is shown of the URL is its origin column.
import { Inject, Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
import type { Alert } from '../../proto/index.js';
import { toJson, type HubDb } from '../store/database.js';
import { stringsFromJson } from '../store/rows.js';
import type { AlertsTable } from '../store/schema.js';
import { sealedKeyId, type SecretBox } from '../store/secret-box.js';
import { HUB_DB, HUB_SECRETS } from '../store/store.module.js';
import { isFleetEventKind } from '../events/fleet-event.js';
import { urlOrigin, type AlertSpec, type AlertType } from './alert.validation.js';

/** An alert as the dispatcher needs it: the spec with URL and secret opened. */
export interface AlertRecord {
  spec: AlertSpec;
  /** Why it cannot be used (its sealed values do not open), undefined when it can. */
  unusable?: string;
}

/** What get/list show: the URL as scheme://host only, never the secret. */
function alertFromRow(row: Selectable<AlertsTable>): Alert {
  return {
    tenant: row.tenant,
    name: row.name,
    type: row.type,
    url: row.url_origin,
    events: stringsFromJson(row.events),
    assignments: stringsFromJson(row.assignments),
    severity: row.severity,
    threshold: Number(row.threshold),
    windowSeconds: Number(row.window_seconds),
    rateLimitSeconds: Number(row.rate_limit_seconds),
    createdAtMs: Number(row.created_at_ms),
    lastSentAtMs: Number(row.last_sent_at_ms),
    lastError: row.last_error,
  };
}

@Injectable()
export class AlertsRepository {
  constructor(
    @Inject(HUB_DB) private readonly db: HubDb,
    @Inject(HUB_SECRETS) private readonly secrets: SecretBox,
  ) {}

  async insert(spec: AlertSpec, createdAtMs: number): Promise<void> {
    await this.db
      .insertInto('alerts')
      .values({
        tenant: spec.tenant,
        name: spec.name,
        type: spec.type,
        url: this.secrets.seal(spec.url),
        url_origin: urlOrigin(spec.url),
        secret: spec.secret ? this.secrets.seal(spec.secret) : null,
        events: toJson(spec.events),
        assignments: toJson(spec.assignments),
        severity: spec.severity,
        threshold: spec.threshold,
        window_seconds: spec.windowSeconds,
        rate_limit_seconds: spec.rateLimitSeconds,
        created_at_ms: createdAtMs,
      })
      .execute();
  }

  async get(tenant: string, name: string): Promise<Alert | undefined> {
    const row = await this.db
      .selectFrom('alerts')
      .selectAll()
      .where('tenant', '=', tenant)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && alertFromRow(row);
  }

  /** One tenant's alerts, or (tenant undefined) every alert. */
  async list(tenant?: string): Promise<Alert[]> {
    let q = this.db.selectFrom('alerts').selectAll().orderBy('tenant').orderBy('name');
    if (tenant !== undefined) q = q.where('tenant', '=', tenant);
    return (await q.execute()).map(alertFromRow);
  }

  /** Every alert with its URL and secret opened, for delivery. */
  async records(): Promise<AlertRecord[]> {
    const rows = await this.db.selectFrom('alerts').selectAll().execute();
    return rows.map((row) => {
      const spec: AlertSpec = {
        tenant: row.tenant,
        name: row.name,
        type: row.type as AlertType,
        url: '',
        secret: '',
        events: stringsFromJson(row.events).filter(isFleetEventKind),
        assignments: stringsFromJson(row.assignments),
        severity: row.severity === 'error' ? 'error' : 'info',
        threshold: Number(row.threshold),
        windowSeconds: Number(row.window_seconds),
        rateLimitSeconds: Number(row.rate_limit_seconds),
      };
      try {
        spec.url = this.secrets.open(row.url);
        spec.secret = row.secret ? this.secrets.open(row.secret) : '';
        return { spec };
      } catch (err) {
        return { spec, unusable: (err as Error).message };
      }
    });
  }

  /**
   * Re-seals URLs and secrets sealed with an old key (--old-secret-key-file) under the current one,
   * as the store does for repo credentials on start. Values no loaded key opens stay as they are
   * (records() reports those alerts unusable). Returns how many alerts were re-sealed.
   */
  async reseal(): Promise<number> {
    const rows = await this.db.selectFrom('alerts').select(['tenant', 'name', 'url', 'secret']).execute();
    let n = 0;
    for (const r of rows) {
      const values = [r.url, r.secret].filter((v): v is string => !!v);
      if (values.every((v) => sealedKeyId(v) === this.secrets.keyId)) continue;
      if (!values.every((v) => this.secrets.canOpen(v))) continue;
      await this.db
        .updateTable('alerts')
        .set({ url: this.secrets.reseal(r.url), secret: r.secret ? this.secrets.reseal(r.secret) : null })
        .where('tenant', '=', r.tenant)
        .where('name', '=', r.name)
        .execute();
      n++;
    }
    return n;
  }

  async recordResult(tenant: string, name: string, ok: boolean, atMs: number, error: string): Promise<void> {
    await this.db
      .updateTable('alerts')
      .set(ok ? { last_sent_at_ms: atMs, last_error: '' } : { last_error: error })
      .where('tenant', '=', tenant)
      .where('name', '=', name)
      .execute();
  }

  async delete(tenant: string, name: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom('alerts')
      .where('tenant', '=', tenant)
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async tenantExists(name: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('tenants')
      .select('name')
      .where('name', '=', name)
      .executeTakeFirst();
    return row !== undefined;
  }
}
