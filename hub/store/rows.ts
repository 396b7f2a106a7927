// Row <-> API message mapping, shared by every repository that reads these tables.
import type { Selectable } from 'kysely';
import type {
  Assignment,
  AssignmentStatus,
  Cluster,
  Condition,
  HealthOptions,
  DriftedObject,
  DriftOptions,
  HelmOptions,
  Repo,
  Substitution,
  Tenant,
} from '../../proto/index.js';
import { fromJson, toJson } from './database.js';
import type { SecretBox } from './secret-box.js';
import type {
  AssignmentStatusTable,
  AssignmentsTable,
  ClustersTable,
  ReposTable,
  TenantsTable,
} from './schema.js';

export function tenantFromRow(row: Selectable<TenantsTable>): Tenant {
  return {
    name: row.name,
    namespaces: fromJson<string[]>(row.namespaces, []),
    serviceAccount: row.service_account,
    clusterRole: row.cluster_role,
    allowedClusterKinds: fromJson<string[]>(row.allowed_cluster_kinds, []),
    createdAtMs: Number(row.created_at_ms),
    vars: fromJson<Record<string, string>>(row.vars, {}),
  };
}

/**
 * A repo as the hub uses it internally. `credentials` is filled (opened with `secrets`) only when
 * `secrets` is given: API responses go through publicRepo(), which drops it.
 */
export function repoFromRow(row: Selectable<ReposTable>, secrets?: SecretBox): Repo {
  const sealed = [row.username, row.password, row.bearer_token, row.ssh_private_key, row.known_hosts];
  const hasCredentials = sealed.some(Boolean);
  const open = (v: string | null | undefined) => (v && secrets ? secrets.open(v) : '');
  return {
    tenant: row.tenant,
    name: row.name,
    type: row.type,
    url: row.url,
    branch: row.branch,
    tag: row.tag,
    commit: row.commit_sha,
    semver: row.semver,
    digest: row.digest,
    intervalSeconds: Number(row.interval_seconds),
    credentials:
      secrets && hasCredentials
        ? {
            username: open(row.username),
            password: open(row.password),
            bearerToken: open(row.bearer_token),
            sshPrivateKey: open(row.ssh_private_key),
            knownHosts: open(row.known_hosts),
          }
        : undefined,
    revision: row.revision,
    resolvedAtMs: Number(row.resolved_at_ms),
    resolveError: row.resolve_error,
    createdAtMs: Number(row.created_at_ms),
    hasCredentials,
  };
}

export function clusterFromRow(row: Selectable<ClustersTable>): Cluster {
  return {
    name: row.name,
    labels: fromJson<Record<string, string>>(row.labels, {}),
    agentVersion: row.agent_version,
    lastHeartbeatMs: Number(row.last_heartbeat_ms),
    desiredGeneration: Number(row.desired_generation),
    observedGeneration: Number(row.observed_generation),
    createdAtMs: Number(row.created_at_ms),
    agentPublicKey: row.agent_public_key,
    joinedAtMs: Number(row.joined_at_ms),
    desiredSetError: row.desired_set_error,
    // liveness is not stored: the services compute it when a cluster is read (cluster-liveness.ts)
    state: '',
  };
}

export function assignmentFromRow(row: Selectable<AssignmentsTable>): Assignment {
  return {
    tenant: row.tenant,
    name: row.name,
    repo: row.repo,
    path: row.path,
    clusters: fromJson<string[]>(row.clusters, []),
    selector: fromJson<Record<string, string>>(row.selector, {}),
    targetNamespace: row.target_namespace,
    prune: Boolean(row.prune),
    suspend: Boolean(row.suspend),
    renderer: row.renderer,
    createdAtMs: Number(row.created_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
    matchedClusters: 0, // output only: the assignments service counts them
    helm: helmFromJson(row.helm),
    substitute: substitutionFromJson(row.substitute),
    decryptionSecret: row.decryption_secret,
    drift: driftFromJson(row.drift),
    force: Boolean(row.force),
    dependsOn: stringsFromJson(row.depends_on),
    retryIntervalSeconds: Number(row.retry_interval_seconds ?? 0),
    health: healthFromJson(row.health),
    pinnedRevision: row.pinned_revision,
  };
}

/** The stored health options, or undefined for none ('{}'): desired sets stay as they were. */
function healthFromJson(json: string): HealthOptions | undefined {
  const h = fromJson<Partial<HealthOptions> | null>(json, {}) ?? {};
  const health: HealthOptions = {
    wait: Boolean(h.wait),
    checks: stringsOf(h.checks),
    timeoutSeconds: Number(h.timeoutSeconds) || 0,
    exprs: Array.isArray(h.exprs) ? h.exprs : [],
  };
  return health.wait || health.checks.length ? health : undefined;
}

/** What the health column stores: '{}' for none. */
export function healthToJson(h: HealthOptions | undefined): string {
  return h
    ? toJson({ wait: h.wait, checks: h.checks, timeoutSeconds: h.timeoutSeconds, exprs: h.exprs })
    : '{}';
}

/** The strings of a stored list (anything that is not a list reads as none, non-strings are dropped). */
function stringsOf(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((e): e is string => typeof e === 'string') : [];
}

/** A stored JSON string[] ('[]' in rows stored before the column; anything else reads as none). */
export function stringsFromJson(text: string | undefined): string[] {
  return stringsOf(fromJson<unknown>(text ?? '[]', []));
}

/** The stored DriftOptions, undefined for the defaults ('{}'), so desired sets stay as they were. */
function driftFromJson(text: string): DriftOptions | undefined {
  const d = fromJson<Partial<DriftOptions>>(text, {});
  const ignore = stringsOf(d.ignore);
  const mode = typeof d.mode === 'string' && d.mode ? d.mode : 'correct';
  return mode === 'correct' && ignore.length === 0 ? undefined : { mode, ignore };
}

/** What the drift column stores: '{}' for the defaults. */
export function driftToJson(d: DriftOptions | undefined): string {
  return d && (d.mode !== 'correct' || d.ignore.length > 0)
    ? toJson({ mode: d.mode, ignore: d.ignore })
    : '{}';
}

/** The stored Substitution, undefined when off ('{}' in rows stored before 0010_substitution). */
function substitutionFromJson(text: string): Substitution | undefined {
  const s = fromJson<Partial<Substitution>>(text, {});
  if (!s.enabled) return undefined;
  return { enabled: true, vars: s.vars ?? {}, strict: Boolean(s.strict) };
}

/** What the substitute column stores: '{}' when off. */
export function substitutionToJson(s: Substitution | undefined): string {
  return s?.enabled ? toJson({ enabled: true, vars: s.vars, strict: s.strict }) : '{}';
}

/** Stored helm options, or undefined for none ('{}'), so desired sets stay as they were without them. */
function helmFromJson(json: string): HelmOptions | undefined {
  const raw = fromJson<unknown>(json, {});
  const h = (raw && typeof raw === 'object' ? raw : {}) as Partial<HelmOptions>;
  const helm: HelmOptions = {
    releaseName: typeof h.releaseName === 'string' ? h.releaseName : '',
    valuesFiles: stringsOf(h.valuesFiles),
    set: stringsOf(h.set),
  };
  return helm.releaseName || helm.valuesFiles.length || helm.set.length ? helm : undefined;
}

/** What the helm column stores: '{}' for none. */
export function helmToJson(helm: HelmOptions | undefined): string {
  return helm
    ? JSON.stringify({ releaseName: helm.releaseName, valuesFiles: helm.valuesFiles, set: helm.set })
    : '{}';
}

export function statusFromRow(row: Selectable<AssignmentStatusTable>): AssignmentStatus {
  return {
    cluster: row.cluster,
    tenant: row.tenant,
    assignment: row.assignment,
    state: Number(row.state),
    reason: row.reason,
    message: row.message,
    desiredRevision: row.desired_revision,
    appliedRevision: row.applied_revision,
    observedGeneration: Number(row.observed_generation),
    changes: {
      created: Number(row.created),
      configured: Number(row.configured),
      unchanged: Number(row.unchanged),
      deleted: Number(row.deleted),
    },
    objects: Number(row.objects),
    startedAtMs: Number(row.started_at_ms),
    finishedAtMs: Number(row.finished_at_ms),
    conditions: fromJson<Condition[]>(row.conditions, []),
    notReady: stringsFromJson(row.not_ready),
    pinned: false, // the status view sets it from the assignment
    nextRetryAtMs: Number(row.next_retry_at_ms ?? 0),
    waitingFor: stringsFromJson(row.waiting_for),
    drifted: fromJson<DriftedObject[]>(row.drifted, []),
  };
}

/** Splits a long IN (...) list so no statement exceeds the dialect's parameter limit. */
export function chunks<T>(items: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
