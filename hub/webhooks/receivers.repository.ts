// Receivers in the store. The secret is sealed with the hub's secret key (as repo credentials
// are) and leaves this class only through `secretOf`, for the webhook server's check.
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Selectable } from 'kysely';
import type { Receiver } from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import { HUB_LOGGER } from '../config/config.module.js';
import { fromJson, StoreError, toJson, type HubDb } from '../store/database.js';
import type { ReceiversTable } from '../store/schema.js';
import { sealedKeyId, type SecretBox } from '../store/secret-box.js';
import { HUB_DB, HUB_SECRETS } from '../store/store.module.js';

/** The URL path of a receiver's id. */
export function hookPath(hookId: string): string {
  return `/hook/${hookId}`;
}

function receiverFromRow(row: Selectable<ReceiversTable>): Receiver {
  return {
    tenant: row.tenant,
    name: row.name,
    type: row.type,
    repos: fromJson<unknown[]>(row.repos, []).filter((r): r is string => typeof r === 'string'),
    path: hookPath(row.hook_id),
    createdAtMs: Number(row.created_at_ms),
    lastDeliveryAtMs: Number(row.last_delivery_at_ms),
    lastDelivery: row.last_delivery,
  };
}

/** A receiver as the webhook server needs it: with its secret, opened. */
export interface ReceiverWithSecret {
  receiver: Receiver;
  secret: string;
}

@Injectable()
export class ReceiversRepository implements OnModuleInit {
  constructor(
    @Inject(HUB_DB) private readonly db: HubDb,
    @Inject(HUB_SECRETS) private readonly secrets: SecretBox,
    @Inject(HUB_LOGGER) private readonly log: Logger,
  ) {}

  /**
   * Secrets sealed with an older key are re-sealed with the current one at start (key rotation,
   * as the store does for repo credentials); a secret no loaded key opens stops the start.
   */
  async onModuleInit(): Promise<void> {
    const rows = await this.db.selectFrom('receivers').select(['tenant', 'name', 'secret']).execute();
    const stale = rows.filter((r) => sealedKeyId(r.secret) !== this.secrets.keyId);
    const unreadable = stale.filter((r) => !this.secrets.canOpen(r.secret));
    if (unreadable.length) {
      throw new StoreError(
        `the secrets of ${unreadable.length} webhook receiver(s) (${unreadable
          .slice(0, 5)
          .map((r) => `${r.tenant}/${r.name}`)
          .join(
            ', ',
          )}) are sealed with secret key ${sealedKeyId(unreadable[0].secret) ?? '(unknown format)'}, ` +
          `but the hub's key is ${this.secrets.keyId}: start the hub with the key file that sealed them, or rotate: --secret-key-file NEW --old-secret-key-file OLD`,
      );
    }
    for (const r of stale) {
      await this.db
        .updateTable('receivers')
        .set({ secret: this.secrets.reseal(r.secret) })
        .where('tenant', '=', r.tenant)
        .where('name', '=', r.name)
        .execute();
    }
    if (stale.length)
      this.log.info(
        { receivers: stale.length, secretKeyId: this.secrets.keyId },
        'receiver secrets re-sealed',
      );
  }

  async insert(receiver: Receiver, hookId: string, secret: string): Promise<void> {
    await this.db
      .insertInto('receivers')
      .values({
        tenant: receiver.tenant,
        name: receiver.name,
        type: receiver.type,
        repos: toJson(receiver.repos),
        hook_id: hookId,
        secret: this.secrets.seal(secret),
        created_at_ms: receiver.createdAtMs,
      })
      .execute();
  }

  async get(tenant: string, name: string): Promise<Receiver | undefined> {
    const row = await this.db
      .selectFrom('receivers')
      .selectAll()
      .where('tenant', '=', tenant)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && receiverFromRow(row);
  }

  async list(tenant?: string): Promise<Receiver[]> {
    let q = this.db.selectFrom('receivers').selectAll();
    if (tenant) q = q.where('tenant', '=', tenant);
    return (await q.orderBy('tenant').orderBy('name').execute()).map(receiverFromRow);
  }

  async delete(tenant: string, name: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom('receivers')
      .where('tenant', '=', tenant)
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** The receiver of a path id, with its secret opened; undefined for an unknown id. */
  async byHookId(hookId: string): Promise<ReceiverWithSecret | undefined> {
    const row = await this.db
      .selectFrom('receivers')
      .selectAll()
      .where('hook_id', '=', hookId)
      .executeTakeFirst();
    return row && { receiver: receiverFromRow(row), secret: this.secrets.open(row.secret) };
  }

  /** Records what became of a delivery; `onlyIfAtMs`: only if no later delivery was recorded since. */
  async recordDelivery(hookId: string, atMs: number, outcome: string, onlyIfAtMs?: number): Promise<void> {
    let q = this.db
      .updateTable('receivers')
      .set({ last_delivery_at_ms: atMs, last_delivery: outcome.slice(0, 500) })
      .where('hook_id', '=', hookId);
    if (onlyIfAtMs !== undefined) q = q.where('last_delivery_at_ms', '=', onlyIfAtMs);
    await q.execute();
  }
}
