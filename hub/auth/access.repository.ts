// The store side of access control: API tokens (hashed) and the audit log.
import { Inject, Injectable } from '@nestjs/common';
import type { ApiToken, AuditEntry } from '../../proto/api.js';
import type { HubDb } from '../store/database.js';
import { HUB_DB } from '../store/store.module.js';
import type { Role } from './token.js';

export interface StoredToken extends ApiToken {
  role: Role;
  secretHash: string;
}

@Injectable()
export class AccessRepository {
  constructor(@Inject(HUB_DB) private readonly db: HubDb) {}

  async insertToken(t: StoredToken): Promise<void> {
    await this.db
      .insertInto('api_tokens')
      .values({
        id: t.id,
        role: t.role,
        tenant: t.tenant,
        description: t.description,
        secret_hash: t.secretHash,
        created_at_ms: t.createdAtMs,
        expires_at_ms: t.expiresAtMs,
        revoked_at_ms: t.revokedAtMs,
        last_used_at_ms: t.lastUsedAtMs,
      })
      .execute();
  }

  async getToken(id: string): Promise<StoredToken | undefined> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toToken(row);
  }

  async listTokens(): Promise<StoredToken[]> {
    const rows = await this.db.selectFrom('api_tokens').selectAll().orderBy('created_at_ms').execute();
    return rows.map(toToken);
  }

  /** False when no such token exists. */
  async revokeToken(id: string, atMs: number): Promise<boolean> {
    const r = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at_ms: atMs })
      .where('id', '=', id)
      .where('revoked_at_ms', '=', 0)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) > 0) return true;
    return (await this.getToken(id)) !== undefined;
  }

  async touchToken(id: string, atMs: number): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_at_ms: atMs }).where('id', '=', id).execute();
  }

  async appendAudit(e: AuditEntry): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({
        at_ms: e.atMs,
        actor: e.actor,
        method: e.method,
        target: e.target,
        outcome: e.outcome,
        message: e.message,
      })
      .execute();
  }

  async listAudit(limit: number): Promise<AuditEntry[]> {
    const rows = await this.db
      .selectFrom('audit_log')
      .selectAll()
      .orderBy('seq', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      atMs: Number(r.at_ms),
      actor: r.actor,
      method: r.method,
      target: r.target,
      outcome: r.outcome,
      message: r.message,
    }));
  }
}

function toToken(r: {
  id: string;
  role: string;
  tenant: string;
  description: string;
  secret_hash: string;
  created_at_ms: number;
  expires_at_ms: number;
  revoked_at_ms: number;
  last_used_at_ms: number;
}): StoredToken {
  return {
    id: r.id,
    role: r.role as Role,
    tenant: r.tenant,
    description: r.description,
    secretHash: r.secret_hash,
    createdAtMs: Number(r.created_at_ms),
    expiresAtMs: Number(r.expires_at_ms),
    revokedAtMs: Number(r.revoked_at_ms),
    lastUsedAtMs: Number(r.last_used_at_ms),
  };
}
