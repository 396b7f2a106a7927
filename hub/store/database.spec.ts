import { afterAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { openDatabase, readStoreId, resealCredentials } from './database.js';
import { InCodeMigrationProvider } from './migrations.js';
import type { HubDatabase } from './schema.js';
import { SecretBox, sealedKeyId } from './secret-box.js';

const dir = mkdtempSync(join(tmpdir(), 'gitfleet-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A store as a hub before encryption at rest left it: migrated to 0002, a password in clear. */
async function legacyStore(path: string, box: SecretBox): Promise<void> {
  const db = new Kysely<HubDatabase>({ dialect: new SqliteDialect({ database: new Database(path) }) });
  const migrator = new Migrator({ db, provider: new InCodeMigrationProvider(box) });
  const { error } = await migrator.migrateTo('0002_status_conditions');
  expect(error).toBeUndefined();
  await db
    .insertInto('tenants')
    .values({ name: 't', namespaces: '["t"]', service_account: 's', cluster_role: 'r', created_at_ms: 1 })
    .execute();
  const repo = {
    tenant: 't',
    type: 'git',
    url: 'https://x/y',
    branch: 'main',
    tag: '',
    commit_sha: '',
    interval_seconds: 60,
    revision: '',
    resolved_at_ms: 0,
    resolve_error: '',
    created_at_ms: 1,
  };
  await db
    .insertInto('repos')
    .values([
      { ...repo, name: 'with', username: 'legacy-user', password: 'legacy-password-123' },
      { ...repo, name: 'without', username: null, password: null },
    ])
    .execute();
  await db.destroy();
}

describe('the store and credentials at rest', () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);

  it('0003_encrypt_repo_credentials seals the passwords of an older store; 0004 gives it an id once', async () => {
    const path = join(dir, 'legacy.db');
    const box = new SecretBox(k1);
    await legacyStore(path, box);
    const db = await openDatabase({ kind: 'sqlite', path }, box);
    const rows = await db
      .selectFrom('repos')
      .select(['name', 'username', 'password'])
      .orderBy('name')
      .execute();
    expect(rows[1]).toEqual({ name: 'without', username: null, password: null });
    expect(sealedKeyId(rows[0].password!)).toBe(box.keyId);
    expect(box.open(rows[0].password!)).toBe('legacy-password-123');
    expect(box.open(rows[0].username!)).toBe('legacy-user');
    const id = await readStoreId(db);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await db.destroy();
    expect(readFileSync(path).includes(Buffer.from('legacy-password-123'))).toBe(false);

    // rotation: re-sealed under the new key; the old key alone can no longer read it
    const again = await openDatabase({ kind: 'sqlite', path }, new SecretBox(k2, [k1]));
    expect(await readStoreId(again)).toBe(id);
    expect(await resealCredentials(again, new SecretBox(k2, [k1]))).toBe(1);
    expect(await resealCredentials(again, new SecretBox(k2))).toBe(0);
    await expect(resealCredentials(again, new SecretBox(k1))).rejects.toThrow(
      `are sealed with secret key ${new SecretBox(k2).keyId}, but the hub's key is ${box.keyId}`,
    );
    await again.destroy();
  });
});
