// The store side of joining: one-time join tokens (hashed) and each cluster's agent key.
import { Inject, Injectable } from '@nestjs/common';
import type { HubDb } from '../store/database.js';
import { HUB_DB } from '../store/store.module.js';

export interface StoredJoinToken {
  id: string;
  cluster: string;
  secretHash: string;
  createdAtMs: number;
  expiresAtMs: number;
  usedAtMs: number;
}

@Injectable()
export class JoinTokensRepository {
  constructor(@Inject(HUB_DB) private readonly db: HubDb) {}

  async insert(t: StoredJoinToken): Promise<void> {
    await this.db
      .insertInto('join_tokens')
      .values({
        id: t.id,
        cluster: t.cluster,
        secret_hash: t.secretHash,
        created_at_ms: t.createdAtMs,
        expires_at_ms: t.expiresAtMs,
        used_at_ms: t.usedAtMs,
      })
      .execute();
  }

  async get(id: string): Promise<StoredJoinToken | undefined> {
    const r = await this.db.selectFrom('join_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return (
      r && {
        id: r.id,
        cluster: r.cluster,
        secretHash: r.secret_hash,
        createdAtMs: Number(r.created_at_ms),
        expiresAtMs: Number(r.expires_at_ms),
        usedAtMs: Number(r.used_at_ms),
      }
    );
  }

  /** Marks the token used unless it was used (or voided) meanwhile: true for the one caller that wins. */
  async consume(id: string, atMs: number): Promise<boolean> {
    const r = await this.db
      .updateTable('join_tokens')
      .set({ used_at_ms: atMs })
      .where('id', '=', id)
      .where('used_at_ms', '=', 0)
      .where('expires_at_ms', '>', atMs)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Voids the cluster's unused tokens (revocation, deletion). */
  async voidUnused(cluster: string, atMs: number): Promise<void> {
    await this.db
      .updateTable('join_tokens')
      .set({ expires_at_ms: atMs })
      .where('cluster', '=', cluster)
      .where('used_at_ms', '=', 0)
      .where('expires_at_ms', '>', atMs)
      .execute();
  }

  /** Forgets tokens that can no longer be used, a day after they stopped being usable. */
  async prune(beforeMs: number): Promise<void> {
    await this.db.deleteFrom('join_tokens').where('expires_at_ms', '<', beforeMs).execute();
  }

  /** Records the key of the agent that joined (or "" to forget it) and when. */
  async setAgentKey(cluster: string, publicKey: string, atMs: number): Promise<void> {
    await this.db
      .updateTable('clusters')
      .set({ agent_public_key: publicKey, joined_at_ms: atMs })
      .where('name', '=', cluster)
      .execute();
  }
}
