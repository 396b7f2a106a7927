// Records and checks which hub store owns the bus (bus-owner.ts decides). Checked on every
// (re)connection and by the projection's periodic bus check, so a hub whose bus was adopted by
// another store stops rewriting it within one check.
import { Inject, Injectable } from '@nestjs/common';
import { Kvm, type KV } from '@nats-io/kv';
import { BUS_OWNER_KEY, HUB_BUCKET } from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import type { BusConnection } from '../bus/bus.service.js';
import { HUB_CONFIG, HUB_LOGGER } from '../config/config.module.js';
import type { ResolvedHubConfig } from '../config/hub-config.js';
import { readStoreId, type HubDb } from '../store/database.js';
import { HUB_DB } from '../store/store.module.js';
import { decideOwnership } from './bus-owner.js';

interface OwnerRecord {
  storeId: string;
  claimedAtMs: number;
}

function parseOwner(value: Uint8Array | undefined): string | undefined {
  if (!value || value.length === 0) return undefined;
  try {
    const rec = JSON.parse(new TextDecoder().decode(value)) as Partial<OwnerRecord>;
    return typeof rec.storeId === 'string' && rec.storeId ? rec.storeId : '(unreadable owner record)';
  } catch {
    return '(unreadable owner record)';
  }
}

@Injectable()
export class BusOwnerService {
  private readonly log: Logger;
  private owner = false;
  private lastWhy = '';
  private storeId: string | undefined;

  constructor(
    @Inject(HUB_DB) private readonly db: HubDb,
    @Inject(HUB_CONFIG) private readonly config: ResolvedHubConfig,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'bus-owner' });
  }

  /** May this hub delete and overwrite desired sets it does not know? */
  get isOwner(): boolean {
    return this.owner;
  }

  /**
   * Reads the bus's owner record (creating the bucket when missing) and claims the bus when the
   * decision says so. `busKeys` counts the desired sets on the bus (asked only when needed).
   */
  async establish(conn: BusConnection, busKeys: () => Promise<number>): Promise<boolean> {
    this.storeId ??= await readStoreId(this.db);
    const kv = await new Kvm(conn.js).create(HUB_BUCKET, { history: 1 });
    for (let attempt = 0; attempt < 3; attempt++) {
      const entry = await kv.get(BUS_OWNER_KEY);
      const busOwner = entry?.operation === 'PUT' ? parseOwner(entry.value) : undefined;
      const storeClusters =
        busOwner === undefined
          ? Number(
              (
                await this.db
                  .selectFrom('clusters')
                  .select((eb) => eb.fn.countAll().as('n'))
                  .executeTakeFirst()
              )?.n ?? 0,
            )
          : 0;
      const decision = decideOwnership({
        storeId: this.storeId,
        busOwner,
        storeClusters,
        busKeys: busOwner === undefined && storeClusters === 0 ? await busKeys() : 0,
        adopt: this.config.adoptBus,
      });
      if (decision.action === 'refuse') return this.set(false, decision.why);
      if (decision.action === 'own') return this.set(true, 'this store owns the bus');
      if (await this.claim(kv, entry?.revision, busOwner === undefined)) return this.set(true, decision.why);
      // another hub claimed it in between: decide again on what it wrote
    }
    return this.set(
      false,
      'the bus owner record keeps changing (two hubs claiming it?); not rewriting the bus',
    );
  }

  private async claim(kv: KV, revision: number | undefined, absent: boolean): Promise<boolean> {
    const record: OwnerRecord = { storeId: this.storeId!, claimedAtMs: Date.now() };
    const bytes = new TextEncoder().encode(JSON.stringify(record));
    try {
      if (absent && revision === undefined) await kv.create(BUS_OWNER_KEY, bytes);
      else await kv.update(BUS_OWNER_KEY, bytes, revision ?? 0);
      return true;
    } catch (err) {
      if (/wrong last sequence|key exists/i.test((err as Error).message)) return false;
      throw err;
    }
  }

  private set(owner: boolean, why: string): boolean {
    if (owner !== this.owner || why !== this.lastWhy) {
      if (owner) this.log.info({ storeId: this.storeId, why }, 'this hub owns the bus');
      else this.log.error({ storeId: this.storeId, why }, 'this hub does not own the bus');
    }
    this.owner = owner;
    this.lastWhy = why;
    return owner;
  }
}
