// Schema migrations, defined in code and applied by Kysely's Migrator on every start.
// Append new migrations; never edit one that has shipped.
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { HubDatabase } from './schema.js';
import type { SecretBox } from './secret-box.js';

export const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('tenants')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('namespaces', 'text', (c) => c.notNull())
        .addColumn('service_account', 'text', (c) => c.notNull())
        .addColumn('cluster_role', 'text', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('repos')
        .addColumn('tenant', 'text', (c) => c.notNull().references('tenants.name'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('branch', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('tag', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('commit_sha', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('interval_seconds', 'integer', (c) => c.notNull())
        .addColumn('username', 'text')
        .addColumn('password', 'text')
        .addColumn('revision', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('resolved_at_ms', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('resolve_error', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('repos_pk', ['tenant', 'name'])
        .execute();

      await db.schema
        .createTable('clusters')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('labels', 'text', (c) => c.notNull())
        .addColumn('agent_version', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('last_heartbeat_ms', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('desired_generation', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('desired_hash', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('observed_generation', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('assignments')
        .addColumn('tenant', 'text', (c) => c.notNull().references('tenants.name'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('repo', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('clusters', 'text', (c) => c.notNull())
        .addColumn('selector', 'text', (c) => c.notNull())
        .addColumn('target_namespace', 'text', (c) => c.notNull())
        .addColumn('prune', 'integer', (c) => c.notNull())
        .addColumn('suspend', 'integer', (c) => c.notNull())
        .addColumn('renderer', 'text', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('assignments_pk', ['tenant', 'name'])
        .addForeignKeyConstraint('assignments_repo_fk', ['tenant', 'repo'], 'repos', ['tenant', 'name'])
        .execute();
      await db.schema
        .createIndex('assignments_repo_idx')
        .on('assignments')
        .columns(['tenant', 'repo'])
        .execute();

      await db.schema
        .createTable('assignment_status')
        .addColumn('cluster', 'text', (c) => c.notNull().references('clusters.name').onDelete('cascade'))
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('assignment', 'text', (c) => c.notNull())
        .addColumn('state', 'integer', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('desired_revision', 'text', (c) => c.notNull())
        .addColumn('applied_revision', 'text', (c) => c.notNull())
        .addColumn('observed_generation', 'bigint', (c) => c.notNull())
        .addColumn('created', 'integer', (c) => c.notNull())
        .addColumn('configured', 'integer', (c) => c.notNull())
        .addColumn('unchanged', 'integer', (c) => c.notNull())
        .addColumn('deleted', 'integer', (c) => c.notNull())
        .addColumn('objects', 'integer', (c) => c.notNull())
        .addColumn('started_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('finished_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('received_at_ms', 'bigint', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('assignment_status_pk', ['cluster', 'tenant', 'assignment'])
        .addForeignKeyConstraint(
          'assignment_status_assignment_fk',
          ['tenant', 'assignment'],
          'assignments',
          ['tenant', 'name'],
          (fk) => fk.onDelete('cascade'),
        )
        .execute();
      await db.schema
        .createIndex('assignment_status_assignment_idx')
        .on('assignment_status')
        .columns(['tenant', 'assignment'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const t of ['assignment_status', 'assignments', 'clusters', 'repos', 'tenants']) {
        await db.schema.dropTable(t).execute();
      }
    },
  },
  '0002_status_conditions': {
    async up(db: Kysely<unknown>): Promise<void> {
      // JSON Condition[]; rows stored before it read '[]' and get conditions derived on read
      await db.schema
        .alterTable('assignment_status')
        .addColumn('conditions', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('assignment_status').dropColumn('conditions').execute();
    },
  },
  '0003_tenant_namespaces': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('tenants')
        .addColumn('allowed_cluster_kinds', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();
      // The unique index is what makes namespace ownership exclusive, race-free.
      await db.schema
        .createTable('tenant_namespaces')
        .addColumn('namespace', 'text', (c) => c.notNull())
        .addColumn('tenant', 'text', (c) => c.notNull().references('tenants.name').onDelete('cascade'))
        .execute();
      await db.schema
        .createIndex('tenant_namespaces_namespace_idx')
        .on('tenant_namespaces')
        .column('namespace')
        .unique()
        .execute();
      await db.schema
        .createIndex('tenant_namespaces_tenant_idx')
        .on('tenant_namespaces')
        .column('tenant')
        .execute();
      // Backfill from the tenants stored before: the oldest tenant keeps a namespace two claimed
      // (the hub refuses such tenants from now on; the agent refuses the later claim too).
      const rows = await sql<{ name: string; namespaces: string }>`
        select name, namespaces from tenants order by created_at_ms, name`.execute(db);
      const owned = new Set<string>();
      for (const row of rows.rows) {
        let namespaces: unknown;
        try {
          namespaces = JSON.parse(row.namespaces);
        } catch {
          namespaces = [];
        }
        for (const ns of Array.isArray(namespaces) ? namespaces : []) {
          if (typeof ns !== 'string' || owned.has(ns)) continue;
          owned.add(ns);
          await sql`insert into tenant_namespaces (namespace, tenant) values (${ns}, ${row.name})`.execute(
            db,
          );
        }
      }
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('tenant_namespaces').execute();
      await db.schema.alterTable('tenants').dropColumn('allowed_cluster_kinds').execute();
    },
  },
  '0004_access': {
    async up(db: Kysely<unknown>): Promise<void> {
      // API tokens: only a SHA-256 of the secret is kept
      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('tenant', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('expires_at_ms', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('revoked_at_ms', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('last_used_at_ms', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('audit_log')
        .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('at_ms', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('audit_log').execute();
      await db.schema.dropTable('api_tokens').execute();
    },
  },
  '0007_agent_join': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('clusters')
        .addColumn('agent_public_key', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
      await db.schema
        .alterTable('clusters')
        .addColumn('joined_at_ms', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('clusters')
        .addColumn('desired_set_error', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
      await db.schema
        .createTable('join_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('cluster', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('used_at_ms', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('bus_revocations')
        .addColumn('public_key', 'text', (c) => c.primaryKey())
        .addColumn('cluster', 'text', (c) => c.notNull())
        .addColumn('revoked_at_s', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('bus_revocations').execute();
      await db.schema.dropTable('join_tokens').execute();
      await db.schema.alterTable('clusters').dropColumn('desired_set_error').execute();
      await db.schema.alterTable('clusters').dropColumn('joined_at_ms').execute();
      await db.schema.alterTable('clusters').dropColumn('agent_public_key').execute();
    },
  },
  '0008_repo_semver': {
    async up(db: Kysely<unknown>): Promise<void> {
      // a SemVer range over the repo's tags ('' = the repo follows its branch, tag or commit)
      await db.schema
        .alterTable('repos')
        .addColumn('semver', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('repos').dropColumn('semver').execute();
    },
  },
  '0009_assignment_helm': {
    async up(db: Kysely<unknown>): Promise<void> {
      // JSON HelmOptions; '{}' (rows stored before, and assignments without helm options) reads as none
      await db.schema
        .alterTable('assignments')
        .addColumn('helm', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('assignments').dropColumn('helm').execute();
    },
  },
  // Post-render substitution: the tenant's variables (JSON Record<string, string>) and the
  // assignment's Substitution (JSON {enabled, vars, strict}; '{}' = off, as rows stored before).
  '0010_substitution': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('tenants')
        .addColumn('vars', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      await db.schema
        .alterTable('assignments')
        .addColumn('substitute', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('assignments').dropColumn('substitute').execute();
      await db.schema.alterTable('tenants').dropColumn('vars').execute();
    },
  }, // Bearer tokens and SSH deploy keys with their known_hosts, sealed like username/password.
  '0013_repo_ssh_bearer': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const column of ['bearer_token', 'ssh_private_key', 'known_hosts']) {
        await db.schema.alterTable('repos').addColumn(column, 'text').execute();
      }
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const column of ['known_hosts', 'ssh_private_key', 'bearer_token']) {
        await db.schema.alterTable('repos').dropColumn(column).execute();
      }
    },
  },
  // SOPS: the name of the Secret (in the tenant's first namespace) holding the age identities
  // the agent decrypts the assignment's documents with; '' = no decryption (as rows stored before).
  '0011_assignment_decryption': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('assignments')
        .addColumn('decryption_secret', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('assignments').dropColumn('decryption_secret').execute();
    },
  },
  '0012_repo_digest': {
    async up(db: Kysely<unknown>): Promise<void> {
      // an OCI repo's pinned manifest digest ('' = it follows its tag or SemVer range, and for git)
      await db.schema
        .alterTable('repos')
        .addColumn('digest', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('repos').dropColumn('digest').execute();
    },
  },
  // Health: an assignment's wait, checks, timeout and CEL expressions (JSON HealthOptions, '{}' =
  // none, as rows stored before), and the objects a status reports as not healthy (JSON string[]).
  '0014_assignment_health': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('assignments')
        .addColumn('health', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      await db.schema
        .alterTable('assignment_status')
        .addColumn('not_ready', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('assignment_status').dropColumn('not_ready').execute();
      await db.schema.alterTable('assignments').dropColumn('health').execute();
    },
  },
  // Drift: an assignment's drift options (JSON {mode, ignore}, '{}' = correct, nothing ignored)
  // and force; the agent's report of drifted objects (JSON DriftedObject[]) with its status.
  '0015_assignment_drift': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('assignments')
        .addColumn('drift', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      await db.schema
        .alterTable('assignments')
        .addColumn('force', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('assignment_status')
        .addColumn('drifted', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('assignment_status').dropColumn('drifted').execute();
      await db.schema.alterTable('assignments').dropColumn('force').execute();
      await db.schema.alterTable('assignments').dropColumn('drift').execute();
    },
  },
  // Order and retries: an assignment's dependencies (JSON string[] of names of the same tenant)
  // and the base of its failure backoff (0 = the agent's default); a status's next retry time and
  // what it waits for (JSON string[] of "tenant/name"). Rows stored before read as none.
  '0016_assignment_order': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('assignments')
        .addColumn('depends_on', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();
      await db.schema
        .alterTable('assignments')
        .addColumn('retry_interval_seconds', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('assignment_status')
        .addColumn('next_retry_at_ms', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('assignment_status')
        .addColumn('waiting_for', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('assignment_status').dropColumn('waiting_for').execute();
      await db.schema.alterTable('assignment_status').dropColumn('next_retry_at_ms').execute();
      await db.schema.alterTable('assignments').dropColumn('retry_interval_seconds').execute();
      await db.schema.alterTable('assignments').dropColumn('depends_on').execute();
    },
  },
  // Rollback: the revisions each assignment's clusters reported as applied (one row per cluster,
  // the newest revisions only: see HISTORY_LIMIT), and the revision an assignment is pinned to.
  '0017_assignment_history': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('assignment_history')
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('assignment', 'text', (c) => c.notNull())
        .addColumn('revision', 'text', (c) => c.notNull())
        .addColumn('cluster', 'text', (c) => c.notNull())
        .addColumn('first_applied_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('last_applied_at_ms', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('assignment_history_pk', ['tenant', 'assignment', 'revision', 'cluster'])
        .addForeignKeyConstraint(
          'assignment_history_assignment_fk',
          ['tenant', 'assignment'],
          'assignments',
          ['tenant', 'name'],
          (fk) => fk.onDelete('cascade'),
        )
        .execute();
      await db.schema
        .alterTable('assignments')
        .addColumn('pinned_revision', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('assignments').dropColumn('pinned_revision').execute();
      await db.schema.dropTable('assignment_history').execute();
    },
  },
  // Targeting: named cluster groups (JSON LabelSelector, string[] and vars); a cluster's vars and
  // maintenance windows; an assignment's label expressions, groups and per-group vars. Rows
  // stored before read as none.
  '0018_cluster_groups': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('cluster_groups')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('selector', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('clusters', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('vars', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .alterTable('clusters')
        .addColumn('vars', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      await db.schema
        .alterTable('clusters')
        .addColumn('maintenance_windows', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();
      for (const [column, empty] of [
        ['match_expressions', '[]'],
        ['groups', '[]'],
        ['group_vars', '[]'],
      ] as const) {
        await db.schema
          .alterTable('assignments')
          .addColumn(column, 'text', (c) => c.notNull().defaultTo(empty))
          .execute();
      }
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const column of ['group_vars', 'groups', 'match_expressions']) {
        await db.schema.alterTable('assignments').dropColumn(column).execute();
      }
      await db.schema.alterTable('clusters').dropColumn('maintenance_windows').execute();
      await db.schema.alterTable('clusters').dropColumn('vars').execute();
      await db.schema.dropTable('cluster_groups').execute();
    },
  },
  // Staged rollouts: an assignment's rollout options (JSON RolloutOptions, '{}' = none), the
  // rollout of its current revision (one row per assignment) and the revision pinned on each of
  // its clusters, so a hub restart continues where it was.
  '0019_rollouts': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('assignments')
        .addColumn('rollout', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      await db.schema
        .createTable('rollouts')
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('assignment', 'text', (c) => c.notNull())
        .addColumn('revision', 'text', (c) => c.notNull())
        .addColumn('previous_revision', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('stage', 'integer', (c) => c.notNull())
        .addColumn('soak_started_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('started_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('rollouts_pk', ['tenant', 'assignment'])
        .addForeignKeyConstraint(
          'rollouts_assignment_fk',
          ['tenant', 'assignment'],
          'assignments',
          ['tenant', 'name'],
          (fk) => fk.onDelete('cascade'),
        )
        .execute();
      await db.schema
        .createTable('rollout_pins')
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('assignment', 'text', (c) => c.notNull())
        .addColumn('cluster', 'text', (c) => c.notNull())
        .addColumn('revision', 'text', (c) => c.notNull())
        .addColumn('pinned_at_ms', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('rollout_pins_pk', ['tenant', 'assignment', 'cluster'])
        .addForeignKeyConstraint(
          'rollout_pins_assignment_fk',
          ['tenant', 'assignment'],
          'assignments',
          ['tenant', 'name'],
          (fk) => fk.onDelete('cascade'),
        )
        .addForeignKeyConstraint('rollout_pins_cluster_fk', ['cluster'], 'clusters', ['name'], (fk) =>
          fk.onDelete('cascade'),
        )
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('rollout_pins').execute();
      await db.schema.dropTable('rollouts').execute();
      await db.schema.alterTable('assignments').dropColumn('rollout').execute();
    },
  },
  // Webhook receivers: a tenant's endpoint (path id unguessable, secret sealed with the hub's key)
  // and what became of its last delivery. They go with their tenant.
  '0020_receivers': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('receivers')
        .addColumn('tenant', 'text', (c) => c.notNull().references('tenants.name').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('repos', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('hook_id', 'text', (c) => c.notNull().unique())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('last_delivery_at_ms', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('last_delivery', 'text', (c) => c.notNull().defaultTo(''))
        .addPrimaryKeyConstraint('receivers_pk', ['tenant', 'name'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('receivers').execute();
    },
  },
  // Alerts (notifications): the URL and the secret sealed like repo credentials; tenant '' is an
  // admin alert. No foreign key to tenants: an admin alert has none.
  '0021_alerts': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('alerts')
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('url_origin', 'text', (c) => c.notNull())
        .addColumn('secret', 'text')
        .addColumn('events', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('assignments', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('threshold', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('window_seconds', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('rate_limit_seconds', 'bigint', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('last_sent_at_ms', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text', (c) => c.notNull().defaultTo(''))
        .addPrimaryKeyConstraint('alerts_pk', ['tenant', 'name'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('alerts').execute();
    },
  },
};

/** The sealed columns of repos: 0005 sealed the first two, 0013_repo_ssh_bearer added the rest. */
export const CREDENTIAL_COLUMNS = [
  'username',
  'password',
  'bearer_token',
  'ssh_private_key',
  'known_hosts',
] as const;
export type CredentialColumn = (typeof CREDENTIAL_COLUMNS)[number];
/** The columns that exist when 0005_encrypt_repo_credentials runs. */
const BASIC_CREDENTIAL_COLUMNS: readonly CredentialColumn[] = ['username', 'password'];

/** A repo's stored credentials (sealed, or in clear before 0005_encrypt_repo_credentials). */
export interface CredentialRow {
  tenant: string;
  name: string;
  values: Partial<Record<CredentialColumn, string | null>>;
}

/** Every repo that has credentials in these columns (default all). */
export async function credentialRows(
  db: Kysely<HubDatabase>,
  columns: readonly CredentialColumn[] = CREDENTIAL_COLUMNS,
): Promise<CredentialRow[]> {
  const rows = (await db
    .selectFrom('repos')
    .select(['tenant', 'name', ...columns])
    .where((eb) => eb.or(columns.map((c) => eb(c, 'is not', null))))
    .execute()) as Array<{ tenant: string; name: string } & Record<CredentialColumn, string | null>>;
  return rows.map((r) => ({
    tenant: r.tenant,
    name: r.name,
    values: Object.fromEntries(columns.map((c) => [c, r[c] ?? null])),
  }));
}

/** The values of a row that are set. */
export function credentialValues(r: CredentialRow): string[] {
  return Object.values(r.values).filter((v): v is string => !!v);
}

/** Rewrites the credentials of these repos with `map` (sealing, opening, re-sealing). */
export async function rewriteCredentials(
  db: Kysely<HubDatabase>,
  rows: readonly CredentialRow[],
  map: (value: string) => string,
): Promise<void> {
  for (const r of rows) {
    await db
      .updateTable('repos')
      .set(Object.fromEntries(Object.entries(r.values).map(([k, v]) => [k, v ? map(v) : null])))
      .where('tenant', '=', r.tenant)
      .where('name', '=', r.name)
      .execute();
  }
}

/**
 * Migrations that need the hub's secret key (they run with the store's SecretBox). Kysely orders
 * all migrations by name, so these slot in after the plain ones above.
 */
export function keyedMigrations(secrets: SecretBox): Record<string, Migration> {
  return {
    // Repo credentials were stored in clear up to here: seal every username and password.
    '0005_encrypt_repo_credentials': {
      async up(db: Kysely<unknown>): Promise<void> {
        const typed = db as Kysely<HubDatabase>;
        await rewriteCredentials(typed, await credentialRows(typed, BASIC_CREDENTIAL_COLUMNS), (v) =>
          secrets.seal(v),
        );
      },
      async down(db: Kysely<unknown>): Promise<void> {
        const typed = db as Kysely<HubDatabase>;
        await rewriteCredentials(typed, await credentialRows(typed, BASIC_CREDENTIAL_COLUMNS), (v) =>
          secrets.open(v),
        );
      },
    },
    // The store's identity, generated once: the bus records which store owns it (bus-owner.ts).
    '0006_store_identity': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('hub_meta')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();
        await (db as Kysely<HubDatabase>)
          .insertInto('hub_meta')
          .values({ key: STORE_ID_KEY, value: randomUUID() })
          .execute();
      },
      async down(db: Kysely<unknown>): Promise<void> {
        await db.schema.dropTable('hub_meta').execute();
      },
    },
  };
}

/** hub_meta key of the store's id. */
export const STORE_ID_KEY = 'store_id';

/** Serves the in-code migrations to Kysely's Migrator. */
export class InCodeMigrationProvider implements MigrationProvider {
  constructor(private readonly secrets: SecretBox) {}

  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve({ ...migrations, ...keyedMigrations(this.secrets) });
  }
}
