// Pure computation of a cluster's desired set from the hub's records. No I/O: the projection
// service loads a snapshot, calls this per cluster, and publishes what changed.
import { createHash } from 'node:crypto';
import {
  DesiredSet,
  MAX_MAINTENANCE_WINDOWS,
  MAX_MERGED_VARS,
  MAX_WINDOW_LENGTH,
  parseGitRevision,
  parseOciRevision,
  type Assignment,
  type DesiredAssignment,
  type Group,
  type Repo,
  type Substitution,
  type Tenant,
  type TenantIdentity,
} from '../../proto/index.js';
import { assignmentSelects, clusterGroups, type ClusterIdentity } from './selector.js';

/** Everything a desired set is computed from (repos carry their credentials). */
export interface DesiredSnapshot {
  tenants: ReadonlyMap<string, Tenant>;
  /** keyed by repoKey(tenant, name) */
  repos: ReadonlyMap<string, Repo>;
  /** sorted by (tenant, name) */
  assignments: readonly Assignment[];
  /** cluster groups, sorted by name (the order their variables apply in) */
  groups: readonly Group[];
  /**
   * The per-cluster pins of assignments with rollout options, keyed by repoKey(tenant,
   * assignment); such an assignment without an entry (no rollout yet) runs its revision as any other.
   */
  rollouts: ReadonlyMap<string, RolloutPins>;
}

/** What a staged rollout pinned on each cluster of one assignment. */
export interface RolloutPins {
  /** cluster → revision */
  pins: ReadonlyMap<string, string>;
  /** The revision of a selected cluster with no pin yet (the stable one) until the driver pins it. */
  fallback: string;
}

export function repoKey(tenant: string, name: string): string {
  return `${tenant}/${name}`;
}

export function buildSnapshot(
  tenants: Tenant[],
  repos: Repo[],
  assignments: Assignment[],
  groups: Group[] = [],
  rollouts: ReadonlyMap<string, RolloutPins> = new Map(),
): DesiredSnapshot {
  return {
    tenants: new Map(tenants.map((t) => [t.name, t])),
    repos: new Map(repos.map((r) => [repoKey(r.tenant, r.name), r])),
    assignments: [...assignments].sort((a, b) => compare(a.tenant, b.tenant) || compare(a.name, b.name)),
    rollouts,
    groups: [...groups].sort((a, b) => compare(a.name, b.name)),
  };
}

/**
 * The revision an assignment runs on a cluster: the pin of its staged rollout (assignments with
 * rollout options whose rollout has begun), else its rollback pin, else its repo's revision.
 */
export function assignmentRevision(
  assignment: Assignment,
  repo: Repo | undefined,
  cluster: string,
  snapshot: Pick<DesiredSnapshot, 'rollouts'>,
): string {
  if (assignment.rollout) {
    const staged = snapshot.rollouts.get(repoKey(assignment.tenant, assignment.name));
    if (staged) return staged.pins.get(cluster) ?? staged.fallback;
  }
  return assignment.pinnedRevision || repo?.revision || '';
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** An assignment that selects the cluster but cannot be published yet. */
export interface UnresolvedAssignment {
  assignment: Assignment;
  /** The repo's last resolution error, "" when it simply has not resolved yet. */
  resolveError: string;
}

export interface ComputedDesiredSet {
  /** generation and publishedAtMs are 0: the projection assigns them. */
  set: DesiredSet;
  /** Selected assignments left out because their repo has no revision yet. */
  unresolved: UnresolvedAssignment[];
  /** The revision each published assignment is pinned to, keyed by repoKey(tenant, assignment). */
  revisions: Map<string, string>;
}

export function tenantIdentity(tenant: Tenant): TenantIdentity {
  return {
    name: tenant.name,
    namespaces: [...tenant.namespaces],
    serviceAccount: tenant.serviceAccount,
    clusterRole: tenant.clusterRole,
    allowedClusterKinds: [...tenant.allowedClusterKinds],
  };
}

/** The variable a cluster label gives: cluster_label_<key>, every character but [A-Za-z0-9_] as '_'. */
export function clusterLabelVar(key: string): string {
  return `cluster_label_${key.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/**
 * The substitution an assignment runs with on one cluster, or undefined when it does not
 * substitute (desired sets of such assignments stay as they were). Variables, each source
 * overriding the ones before: cluster_name and cluster_label_<key> (labels in key order, so two
 * keys that map to one name resolve the same way every time), the tenant's, the vars of the
 * groups the cluster is in (`inGroups`, in name order), the cluster's own, the assignment's, and
 * the assignment's group_vars of the groups the cluster is in (in group name order).
 * Names are sorted: the set's encoding, and so its hash, does not depend on insertion order.
 */
export function mergedSubstitution(
  assignment: Assignment,
  tenant: Tenant,
  cluster: ClusterIdentity,
  inGroups: readonly Pick<Group, 'name' | 'vars'>[] = [],
): Substitution | undefined {
  const own = assignment.substitute;
  if (!own?.enabled) return undefined;
  const merged = new Map<string, string>([['cluster_name', cluster.name]]);
  const add = (vars: Record<string, string> | undefined) => {
    for (const [name, value] of Object.entries(vars ?? {})) merged.set(name, value);
  };
  for (const key of Object.keys(cluster.labels).sort(compare)) {
    merged.set(clusterLabelVar(key), cluster.labels[key]);
  }
  add(tenant.vars);
  const groups = [...inGroups].sort((a, b) => compare(a.name, b.name));
  for (const g of groups) add(g.vars);
  add(cluster.vars);
  add(own.vars);
  const overrides = assignment.groupVars ?? [];
  if (overrides.length > 0) {
    for (const g of groups) for (const o of overrides) if (o.group === g.name) add(o.vars);
  }
  const vars: Record<string, string> = {};
  for (const name of [...merged.keys()].sort(compare)) {
    // never the prototype, even from a row written around the API's validation
    if (name !== '__proto__') vars[name] = merged.get(name)!;
  }
  return { enabled: true, strict: own.strict, vars };
}

export function desiredAssignment(
  assignment: Assignment,
  repo: Repo,
  tenant: Tenant,
  cluster: ClusterIdentity,
  inGroups: readonly Group[] = [],
  // the revision is what the agent fetches: a commit for git, a manifest digest for OCI; a
  // rollback's pin (an earlier revision of the same repo) instead of the repo's current one, or
  // the cluster's pin of a staged rollout (assignmentRevision)
  revision = assignment.pinnedRevision || repo.revision,
): DesiredAssignment {
  const oci = repo.type === 'oci';
  const commit = oci ? '' : parseGitRevision(revision).commit;
  const digest = oci ? parseOciRevision(revision).digest : '';
  const creds = repo.credentials;
  return {
    tenant: assignment.tenant,
    name: assignment.name,
    repo: assignment.repo,
    source: {
      type: repo.type || 'git',
      url: repo.url,
      revision,
      commit,
      credentials: creds && Object.values(creds).some(Boolean) ? { ...creds } : undefined,
      digest,
    },
    path: assignment.path,
    targetNamespace: assignment.targetNamespace,
    prune: assignment.prune,
    suspend: assignment.suspend,
    renderer: assignment.renderer,
    helm: assignment.helm,
    substitute: mergedSubstitution(assignment, tenant, cluster, inGroups),
    // only the Secret's name: the keys stay in the tenant's namespace, never on the hub
    decryptionSecret: assignment.decryptionSecret,
    health: assignment.health,
    // the agent waits, on this cluster, until these are Ready here; and backs off from this base
    dependsOn: [...(assignment.dependsOn ?? [])],
    retryIntervalSeconds: assignment.retryIntervalSeconds ?? 0,
    drift: assignment.drift,
    force: assignment.force,
  };
}

/**
 * Why an assignment's pin cannot be published (its repo changed kind since the rollback, so the
 * pinned revision is not one the agent can fetch), or undefined.
 */
export function pinProblem(assignment: Assignment, repo: Repo, staged = ''): string | undefined {
  if (staged) {
    if (revisionFits(repo, staged)) return undefined;
    return (
      `pinned by its staged rollout to ${JSON.stringify(staged)}, which is not a revision of the ` +
      `${repo.type || 'git'} repo ${JSON.stringify(repo.name)} (it changed kind): the next revision of the repo rolls out again`
    );
  }
  if (!assignment.pinnedRevision || revisionFits(repo, assignment.pinnedRevision)) return undefined;
  return (
    `pinned by rollback to ${JSON.stringify(assignment.pinnedRevision)}, which is not a revision of the ` +
    `${repo.type || 'git'} repo ${JSON.stringify(repo.name)}: gitfleet rollback assignment ${assignment.name} --tenant ${assignment.tenant} --unpin`
  );
}

function revisionFits(repo: Repo, revision: string): boolean {
  try {
    if (repo.type === 'oci') parseOciRevision(revision);
    else parseGitRevision(revision);
    return true;
  } catch {
    return false;
  }
}

export function computeDesiredSet(cluster: ClusterIdentity, snapshot: DesiredSnapshot): ComputedDesiredSet {
  const assignments: DesiredAssignment[] = [];
  const unresolved: UnresolvedAssignment[] = [];
  const revisions = new Map<string, string>();
  const tenantNames = new Set<string>();
  const inGroups = clusterGroups(cluster, snapshot.groups);
  for (const assignment of snapshot.assignments) {
    if (!assignmentSelects(assignment, cluster, inGroups)) continue;
    const tenant = snapshot.tenants.get(assignment.tenant);
    const repo = snapshot.repos.get(repoKey(assignment.tenant, assignment.repo));
    if (!tenant) continue; // cannot happen with the store's foreign keys; never publish half an identity
    const revision = assignmentRevision(assignment, repo, cluster.name, snapshot);
    if (!repo || !revision) {
      unresolved.push({ assignment, resolveError: repo?.resolveError ?? '' });
      continue;
    }
    const staged = revision !== (assignment.pinnedRevision || repo.revision) ? revision : '';
    const badPin = pinProblem(assignment, repo, staged);
    if (badPin) {
      unresolved.push({ assignment, resolveError: badPin });
      continue;
    }
    const desired = desiredAssignment(assignment, repo, tenant, cluster, inGroups, revision);
    const varCount = Object.keys(desired.substitute?.vars ?? {}).length;
    if (varCount > MAX_MERGED_VARS) {
      // the agent would refuse the whole set; leave this assignment out and say why
      unresolved.push({
        assignment,
        resolveError:
          `${varCount} substitution variables on cluster ${JSON.stringify(cluster.name)} (at most ${MAX_MERGED_VARS}, ` +
          'from its labels, the tenant, its groups, the cluster and the assignment): remove some',
      });
      continue;
    }
    assignments.push(desired);
    revisions.set(repoKey(assignment.tenant, assignment.name), desired.source!.revision);
    tenantNames.add(tenant.name);
  }
  const tenants = [...tenantNames].sort(compare).map((name) => tenantIdentity(snapshot.tenants.get(name)!));
  return {
    set: {
      cluster: cluster.name,
      generation: 0,
      tenants,
      assignments,
      publishedAtMs: 0,
      maintenanceWindows: [...(cluster.maintenanceWindows ?? [])],
    },
    unresolved,
    revisions,
  };
}

/** sha256 of the set's content, ignoring generation and publishedAtMs. */
export function hashDesiredSet(set: DesiredSet): string {
  return measureDesiredSet(set).hash;
}

/** The set's content hash and its size on the bus, from one encoding. */
export function measureDesiredSet(set: DesiredSet): { hash: string; size: number } {
  const bytes = DesiredSet.encode({ ...set, generation: 0, publishedAtMs: 0 }).finish();
  return { hash: createHash('sha256').update(bytes).digest('hex'), size: bytes.length + GENERATION_BYTES };
}

/** Room for the generation and publishedAtMs the projection and the publisher fill in (two varints of at most 10 bytes and their tags). */
const GENERATION_BYTES = 24;

/** Bytes of the set as published: its encoding plus GENERATION_BYTES. */
export function desiredSetSize(set: DesiredSet): number {
  return DesiredSet.encode({ ...set, generation: 0, publishedAtMs: 0 }).finish().length + GENERATION_BYTES;
}

/**
 * desiredSetSize of a cluster's set in `snapshot`, memoized by the assignments that select it:
 * sets of the same selection differ only in the cluster's name. A selection with a substituting
 * assignment carries the cluster's name, labels, vars and its groups' vars as variables, and a
 * cluster's maintenance windows are its own: those sets are encoded each.
 */
export function desiredSetSizer(snapshot: DesiredSnapshot): (cluster: ClusterIdentity) => number {
  const bySelection = new Map<string, number>();
  return (cluster) => {
    const inGroups = clusterGroups(cluster, snapshot.groups);
    const selected = snapshot.assignments.filter((a) => assignmentSelects(a, cluster, inGroups));
    if (selected.some((a) => a.substitute?.enabled) || cluster.maintenanceWindows?.length) {
      return desiredSetSize(computeDesiredSet(cluster, snapshot).set);
    }
    const selection = selected.map((a) => `${a.tenant}/${a.name}`).join(',');
    let unnamed = bySelection.get(selection);
    if (unnamed === undefined) {
      unnamed = desiredSetSize(computeDesiredSet(cluster, snapshot).set) - Buffer.byteLength(cluster.name);
      bySelection.set(selection, unnamed);
    }
    return unnamed + Buffer.byteLength(cluster.name);
  };
}

/**
 * An upper bound of any cluster's desired-set size in `snapshot`: the size of a set that holds
 * every resolved assignment and every tenant, for a cluster with the longest possible name. When
 * it is under a limit, no cluster's set can be over it. Infinity when a resolved assignment
 * substitutes: its variables hold each cluster's labels, which only the clusters themselves bound.
 */
export function desiredSetUpperBound(snapshot: DesiredSnapshot): number {
  const assignments: DesiredAssignment[] = [];
  const longest: ClusterIdentity = { name: 'x'.repeat(63), labels: {} };
  for (const a of snapshot.assignments) {
    const repo = snapshot.repos.get(repoKey(a.tenant, a.repo));
    const tenant = snapshot.tenants.get(a.tenant);
    if (!(a.pinnedRevision || repo?.revision) || !repo || !tenant || pinProblem(a, repo)) continue;
    if (a.substitute?.enabled) return Number.POSITIVE_INFINITY;
    assignments.push(desiredAssignment(a, repo, tenant, longest));
  }
  const tenants = [...snapshot.tenants.values()].map(tenantIdentity);
  return desiredSetSize({
    cluster: 'x'.repeat(63),
    generation: 0,
    tenants,
    assignments,
    publishedAtMs: 0,
    maintenanceWindows: Array.from({ length: MAX_MAINTENANCE_WINDOWS }, () => 'x'.repeat(MAX_WINDOW_LENGTH)),
  });
}
