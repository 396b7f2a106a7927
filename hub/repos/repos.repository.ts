import { Inject, Injectable } from '@nestjs/common';
import type { GitCredentials, Repo } from '../../proto/index.js';
import type { HubDb } from '../store/database.js';
import { repoFromRow } from '../store/rows.js';
import type { RepoSpec } from './repo.validation.js';
import { HUB_DB, HUB_SECRETS } from '../store/store.module.js';
import type { SecretBox } from '../store/secret-box.js';

/** The outcome of one resolution: a revision, or an error that keeps the last good revision. */
export type Resolution = { ok: true; revision: string; atMs: number } | { ok: false; error: string };

@Injectable()
export class ReposRepository {
  constructor(
    @Inject(HUB_DB) private readonly db: HubDb,
    @Inject(HUB_SECRETS) private readonly secrets: SecretBox,
  ) {}

  /** Credentials are stored sealed (secret-box.ts), never in clear. */
  private seal(value: string | undefined): string | null {
    return value ? this.secrets.seal(value) : null;
  }

  private sealAll(c: GitCredentials | undefined) {
    return {
      username: this.seal(c?.username),
      password: this.seal(c?.password),
      bearer_token: this.seal(c?.bearerToken),
      ssh_private_key: this.seal(c?.sshPrivateKey),
      known_hosts: this.seal(c?.knownHosts),
    };
  }

  async insert(repo: Repo): Promise<void> {
    await this.db
      .insertInto('repos')
      .values({
        tenant: repo.tenant,
        name: repo.name,
        type: repo.type,
        url: repo.url,
        branch: repo.branch,
        tag: repo.tag,
        commit_sha: repo.commit,
        semver: repo.semver,
        digest: repo.digest,
        interval_seconds: repo.intervalSeconds,
        ...this.sealAll(repo.credentials),
        revision: repo.revision,
        resolved_at_ms: repo.resolvedAtMs,
        resolve_error: repo.resolveError,
        created_at_ms: repo.createdAtMs,
      })
      .execute();
  }

  /** Replaces the source spec; credentials only when given (they are write-only). */
  async updateSpec(repo: RepoSpec): Promise<boolean> {
    const res = await this.db
      .updateTable('repos')
      .set({
        type: repo.type,
        url: repo.url,
        branch: repo.branch,
        tag: repo.tag,
        commit_sha: repo.commit,
        semver: repo.semver,
        digest: repo.digest,
        interval_seconds: repo.intervalSeconds,
        // one kind replaces another: the columns of the others are cleared
        ...(repo.credentials ? this.sealAll(repo.credentials) : {}),
      })
      .where('tenant', '=', repo.tenant)
      .where('name', '=', repo.name)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** The repo, with its credentials only when `withCredentials` (resolution and desired sets). */
  async get(tenant: string, name: string, withCredentials = false): Promise<Repo | undefined> {
    const row = await this.db
      .selectFrom('repos')
      .selectAll()
      .where('tenant', '=', tenant)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && repoFromRow(row, withCredentials ? this.secrets : undefined);
  }

  /** All repos, or a tenant's; never with credentials. */
  async list(tenant?: string): Promise<Repo[]> {
    let q = this.db.selectFrom('repos').selectAll();
    if (tenant) q = q.where('tenant', '=', tenant);
    const rows = await q.orderBy('tenant').orderBy('name').execute();
    return rows.map((r) => repoFromRow(r));
  }

  async usedBy(tenant: string, name: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('assignments')
      .select('name')
      .where('tenant', '=', tenant)
      .where('repo', '=', name)
      .orderBy('name')
      .execute();
    return rows.map((r) => r.name);
  }

  async delete(tenant: string, name: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom('repos')
      .where('tenant', '=', tenant)
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** Records a resolution; false when the repo no longer exists. */
  async saveResolution(tenant: string, name: string, r: Resolution): Promise<boolean> {
    const res = await this.db
      .updateTable('repos')
      .set(
        r.ok
          ? { revision: r.revision, resolved_at_ms: r.atMs, resolve_error: '' }
          : { resolve_error: r.error },
      )
      .where('tenant', '=', tenant)
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }
}
