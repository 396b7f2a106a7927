// Opens the hub's store and brings its schema up to date. SQLite (better-sqlite3, WAL) is the
// embedded default; everything above this file speaks Kysely only, so PostgreSQL slots in as
// another dialect here (pg's Pool + Kysely's PostgresDialect) without touching the repositories.
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Dialect } from 'kysely';
import type { DbConfig } from '../config/hub-config.js';
import {
  credentialRows,
  credentialValues,
  InCodeMigrationProvider,
  rewriteCredentials,
  STORE_ID_KEY,
} from './migrations.js';
import type { HubDatabase } from './schema.js';
import { sealedKeyId, type SecretBox } from './secret-box.js';

export type HubDb = Kysely<HubDatabase>;

export class StoreError extends Error {
  override readonly name = 'StoreError';
}

export const POSTGRES_UNSUPPORTED =
  'PostgreSQL is not supported yet: use a SQLite file path for db (the store is written against Kysely, so a PostgresDialect can be added in hub/store/database.ts)';

function createDialect(config: DbConfig): Dialect {
  switch (config.kind) {
    case 'sqlite': {
      const database = new Database(config.path);
      if (config.path !== ':memory:') database.pragma('journal_mode = WAL');
      database.pragma('synchronous = NORMAL');
      // zero what is deleted or rewritten: a credential sealed (migration 0003) or re-sealed
      // (rotation) must not linger in clear or under the old key in the file's free space
      database.pragma('secure_delete = ON');
      database.pragma('foreign_keys = ON');
      database.pragma('busy_timeout = 5000');
      return new SqliteDialect({ database });
    }
    case 'postgres':
      throw new StoreError(POSTGRES_UNSUPPORTED);
  }
}

/** Opens the database and applies every pending migration; fails with the migration's error. */
export async function openDatabase(config: DbConfig, secrets: SecretBox): Promise<HubDb> {
  let db: HubDb;
  try {
    db = new Kysely<HubDatabase>({ dialect: createDialect(config) });
  } catch (err) {
    if (err instanceof StoreError) throw err;
    const where = config.kind === 'sqlite' ? config.path : 'postgres';
    throw new StoreError(`cannot open the hub database ${where}: ${(err as Error).message}`, { cause: err });
  }
  const migrator = new Migrator({ db, provider: new InCodeMigrationProvider(secrets) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new StoreError(`migration ${failed} failed: ${(error as Error).message ?? String(error)}`, {
      cause: error,
    });
  }
  return db;
}

/**
 * Re-seals every credential not sealed with the current key (rotation: the old key is loaded
 * too). Fails, changing nothing, when a value's key is not loaded: the hub must not start with a
 * key that cannot read its own store. Returns how many repos were re-sealed.
 */
export async function resealCredentials(db: HubDb, secrets: SecretBox): Promise<number> {
  const values = credentialValues;
  const stale = (await credentialRows(db)).filter((r) =>
    values(r).some((v) => sealedKeyId(v) !== secrets.keyId),
  );
  const unreadable = stale.filter((r) => values(r).some((v) => !secrets.canOpen(v)));
  if (unreadable.length > 0) {
    const ids = [...new Set(unreadable.flatMap(values).map((v) => sealedKeyId(v) ?? '(unknown format)'))];
    throw new StoreError(
      `the credentials of ${unreadable.length} repo(s) (${unreadable
        .slice(0, 5)
        .map((r) => `${r.tenant}/${r.name}`)
        .join(', ')}) are sealed with secret key ${ids.join(', ')}, but the hub's key is ${secrets.keyId}: ` +
        'start the hub with the key file that sealed them (--secret-key-file), or rotate: --secret-key-file NEW --old-secret-key-file OLD',
    );
  }
  if (stale.length === 0) return 0;
  await db.transaction().execute((tx) => rewriteCredentials(tx, stale, (v) => secrets.reseal(v)));
  return stale.length;
}

/** The store's id (generated once by migration 0004_store_identity). */
export async function readStoreId(db: HubDb): Promise<string> {
  const row = await db
    .selectFrom('hub_meta')
    .select('value')
    .where('key', '=', STORE_ID_KEY)
    .executeTakeFirst();
  if (!row) throw new StoreError('the store has no id (hub_meta.store_id is missing)');
  return row.value;
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

/** A primary-key or unique constraint failed (SQLite or PostgreSQL). */
export function isUniqueViolation(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}

/** A foreign-key constraint failed (SQLite or PostgreSQL). */
export function isForeignKeyViolation(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
}

/** JSON column helpers: lists and maps are stored as JSON text on every dialect. */
export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

export function fromJson<T>(text: string | null | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
