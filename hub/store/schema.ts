// The hub's tables as Kysely sees them. Portable across SQLite and PostgreSQL: times are integer
// milliseconds, booleans 0/1 integers, lists and maps JSON text.
import type { Generated } from 'kysely';

export interface TenantsTable {
  name: string;
  /** JSON string[] */
  namespaces: string;
  service_account: string;
  cluster_role: string;
  created_at_ms: number;
  /** JSON string[]: cluster-scoped kinds granted by the operator ('[]' in rows stored before) */
  allowed_cluster_kinds: Generated<string>;
  /** JSON Record<string, string>: substitution variables ('{}' in rows stored before) */
  vars: Generated<string>;
}

/**
 * Who owns each namespace: one row per (tenant, namespace), unique on namespace, so two tenants
 * can never own the same namespace even when created at the same moment.
 */
export interface TenantNamespacesTable {
  namespace: string;
  tenant: string;
}

export interface ReposTable {
  tenant: string;
  name: string;
  type: string;
  url: string;
  branch: string;
  tag: string;
  commit_sha: string;
  /** SemVer range over tags ('' in rows stored before 0008_repo_semver, and for other refs) */
  semver: Generated<string>;
  /** OCI: pinned manifest digest ('' in rows stored before 0012_repo_digest, and for other refs) */
  digest: Generated<string>;
  interval_seconds: number;
  /**
   * Basic-auth credentials, sealed with the hub's secret key (secret-box.ts; migration
   * 0003_encrypt_repo_credentials); never returned by the API and never logged.
   */
  username: string | null;
  password: string | null;
  /** Bearer token, SSH deploy key and its known_hosts, sealed the same way (0013_repo_ssh_bearer). */
  bearer_token: Generated<string | null>;
  ssh_private_key: Generated<string | null>;
  known_hosts: Generated<string | null>;
  /** Last good revision ("main@sha1:<sha>"), "" until the first successful resolution. */
  revision: string;
  resolved_at_ms: number;
  resolve_error: string;
  created_at_ms: number;
}

export interface ClustersTable {
  name: string;
  /** JSON Record<string, string> */
  labels: string;
  agent_version: string;
  last_heartbeat_ms: number;
  /** Generation of the desired set last computed (and published, or being published). */
  desired_generation: number;
  /** sha256 of that desired set without generation and published_at ("" = never computed). */
  desired_hash: string;
  observed_generation: number;
  created_at_ms: number;
  /** NATS public key of the agent that joined ("" none, or revoked). */
  agent_public_key: string;
  joined_at_ms: number;
  /** Why the agent refused its last desired set (from its heartbeat; "" when it accepted it). */
  desired_set_error: string;
  /** JSON Record<string, string>: substitution variables ('{}' in rows stored before 0018) */
  vars: Generated<string>;
  /** JSON string[]: maintenance windows, normalized ('[]' in rows stored before 0018) */
  maintenance_windows: Generated<string>;
}

/** Named cluster groups (0018_cluster_groups). */
export interface ClusterGroupsTable {
  name: string;
  /** JSON LabelSelector ('{}' = empty: no cluster by labels) */
  selector: Generated<string>;
  /** JSON string[]: cluster names */
  clusters: Generated<string>;
  /** JSON Record<string, string> */
  vars: Generated<string>;
  created_at_ms: number;
  updated_at_ms: number;
}

/** One-time join tokens of agents: only a SHA-256 of the secret is kept. */
export interface JoinTokensTable {
  id: string;
  cluster: string;
  secret_hash: string;
  created_at_ms: number;
  expires_at_ms: number;
  /** 0 until used; a token works once. */
  used_at_ms: number;
}

/** NATS user keys the hub revoked: the gitfleet account JWT lists every one of them. */
export interface BusRevocationsTable {
  public_key: string;
  cluster: string;
  /** Unix seconds: JWTs of this key issued up to then are void. */
  revoked_at_s: number;
}

export interface AssignmentsTable {
  tenant: string;
  name: string;
  repo: string;
  path: string;
  /** JSON string[] */
  clusters: string;
  /** JSON Record<string, string> */
  selector: string;
  target_namespace: string;
  prune: number;
  suspend: number;
  renderer: string;
  created_at_ms: number;
  updated_at_ms: number;
  /** JSON HelmOptions ('{}' = none, in rows stored before 0009_assignment_helm too) */
  helm: Generated<string>;
  /** JSON Substitution {enabled, vars, strict}; '{}' (off) in rows stored before */
  substitute: Generated<string>;
  /** SOPS: the Secret with the age identities ('' = none, in rows stored before 0011 too) */
  decryption_secret: Generated<string>;
  /** JSON DriftOptions {mode, ignore} ('{}' = the defaults, in rows stored before 0015 too) */
  drift: Generated<string>;
  /** Recreate on immutable-field changes, take other managers' fields (0 in rows stored before) */
  force: Generated<number>;
  /** JSON string[]: names of the same tenant's assignments ('[]' in rows stored before 0016) */
  depends_on: Generated<string>;
  /** base of the failure backoff in seconds (0 = the agent's default) */
  retry_interval_seconds: Generated<number>;
  /** JSON HealthOptions ('{}' = none, in rows stored before 0014_assignment_health too) */
  health: Generated<string>;
  /** Set by rollback: the revision the assignment is pinned to ('' = it follows its repo) */
  pinned_revision: Generated<string>;
  /** JSON LabelSelectorRequirement[] ('[]' in rows stored before 0018_cluster_groups) */
  match_expressions: Generated<string>;
  /** JSON string[]: names of cluster groups */
  groups: Generated<string>;
  /** JSON GroupVars[] */
  group_vars: Generated<string>;
  /** JSON RolloutOptions ('{}' = no staged rollout, in rows stored before 0019_rollouts too) */
  rollout: Generated<string>;
}

/** The rollout of an assignment's current revision (0019_rollouts); `stage` is 0-based. */
export interface RolloutsTable {
  tenant: string;
  assignment: string;
  revision: string;
  previous_revision: string;
  state: string;
  stage: number;
  soak_started_at_ms: number;
  message: string;
  started_at_ms: number;
  updated_at_ms: number;
}

/** The revision a rollout pinned on one cluster of its assignment (0019_rollouts). */
export interface RolloutPinsTable {
  tenant: string;
  assignment: string;
  cluster: string;
  revision: string;
  pinned_at_ms: number;
}

/** Revisions an assignment's clusters reported as applied (0017_assignment_history): one row per cluster. */
export interface AssignmentHistoryTable {
  tenant: string;
  assignment: string;
  revision: string;
  cluster: string;
  first_applied_at_ms: number;
  last_applied_at_ms: number;
}

export interface AssignmentStatusTable {
  cluster: string;
  tenant: string;
  assignment: string;
  state: number;
  reason: string;
  message: string;
  desired_revision: string;
  applied_revision: string;
  observed_generation: number;
  created: number;
  configured: number;
  unchanged: number;
  deleted: number;
  objects: number;
  started_at_ms: number;
  finished_at_ms: number;
  received_at_ms: Generated<number>;
  /** JSON Condition[] ('[]' in rows stored before conditions existed) */
  conditions: Generated<string>;
  /** JSON string[]: objects not healthy ('[]' in rows stored before 0014_assignment_health) */
  not_ready: Generated<string>;
  /** 0 = no retry scheduled */
  next_retry_at_ms: Generated<number>;
  /** JSON string[] of "tenant/name" ('[]' in rows stored before 0016) */
  waiting_for: Generated<string>;
  /** JSON DriftedObject[] ('[]' in rows stored before 0015_assignment_drift) */
  drifted: Generated<string>;
}

export interface ApiTokensTable {
  id: string;
  role: string;
  tenant: Generated<string>;
  description: Generated<string>;
  secret_hash: string;
  created_at_ms: number;
  expires_at_ms: Generated<number>;
  revoked_at_ms: Generated<number>;
  last_used_at_ms: Generated<number>;
}

export interface AuditLogTable {
  seq: Generated<number>;
  at_ms: number;
  actor: string;
  method: string;
  target: string;
  outcome: string;
  message: Generated<string>;
}

/** Small facts about the store itself (migration 0006_store_identity): its id. */
export interface HubMetaTable {
  key: string;
  value: string;
}

/** Webhook receivers (migration 0020_receivers). */
export interface ReceiversTable {
  tenant: string;
  name: string;
  /** "github", "gitlab" or "generic" */
  type: string;
  /** JSON string[]: names of the tenant's repos ([] = by the pushed URL, or all for generic) */
  repos: Generated<string>;
  /** The unguessable id of its path "/hook/<id>". */
  hook_id: string;
  /** The shared secret, sealed with the hub's secret key (secret-box.ts); never returned or logged. */
  secret: string;
  created_at_ms: number;
  last_delivery_at_ms: Generated<number>;
  last_delivery: Generated<string>;
}

/** Alerts (0021_alerts): url and secret sealed (secret-box.ts); tenant '' = an admin alert. */
export interface AlertsTable {
  tenant: string;
  name: string;
  type: string;
  url: string;
  /** scheme://host[:port] of the URL: what get/list and logs show */
  url_origin: string;
  secret: string | null;
  /** JSON string[] */
  events: Generated<string>;
  /** JSON string[] */
  assignments: Generated<string>;
  severity: string;
  threshold: Generated<number>;
  window_seconds: Generated<number>;
  rate_limit_seconds: number;
  created_at_ms: number;
  last_sent_at_ms: Generated<number>;
  last_error: Generated<string>;
}

export interface HubDatabase {
  hub_meta: HubMetaTable;
  tenants: TenantsTable;
  tenant_namespaces: TenantNamespacesTable;
  repos: ReposTable;
  clusters: ClustersTable;
  cluster_groups: ClusterGroupsTable;
  assignments: AssignmentsTable;
  rollouts: RolloutsTable;
  rollout_pins: RolloutPinsTable;
  assignment_status: AssignmentStatusTable;
  assignment_history: AssignmentHistoryTable;
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
  join_tokens: JoinTokensTable;
  bus_revocations: BusRevocationsTable;
  receivers: ReceiversTable;
  alerts: AlertsTable;
}
