// Who may call what (pure). Admins may call every method; every other role only what this table
// grants it, so a method nobody listed (a new RPC) is admin-only until it is added here. A
// tenant token sees one tenant: requests naming another tenant are refused, list and status
// filters are pinned to its tenant, and a tenant listing tenants sees only its own.
import { FailedPreconditionError, NamesTenantError, PermissionDeniedError } from '../common/errors.js';
import { tokenId, type Principal } from './token.js';

/** How a non-admin role reaches a method. */
type Rule =
  /** Read-only; viewers may, tenants may for their own tenant (field named by `tenantOf`). */
  | { kind: 'read'; tenantOf?: (req: Record<string, unknown>) => unknown; pin?: string }
  /** A change to a tenant's own objects: tenants may for their own tenant, viewers never. */
  | { kind: 'tenant-write'; tenantOf: (req: Record<string, unknown>) => unknown };

const field =
  (...path: string[]) =>
  (req: Record<string, unknown>): unknown =>
    path.reduce<unknown>(
      (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
      req,
    );

/** gRPC handler name (ts-proto's camelCase method) → rule. Absent: admin only. */
const RULES: Record<string, Rule> = {
  getTenant: { kind: 'read', tenantOf: field('name') },
  listTenants: { kind: 'read' },
  createRepo: { kind: 'tenant-write', tenantOf: field('repo', 'tenant') },
  updateRepo: { kind: 'tenant-write', tenantOf: field('repo', 'tenant') },
  getRepo: { kind: 'read', tenantOf: field('tenant') },
  listRepos: { kind: 'read', pin: 'tenant' },
  deleteRepo: { kind: 'tenant-write', tenantOf: field('tenant') },
  resolveRepo: { kind: 'tenant-write', tenantOf: field('tenant') },
  getCluster: { kind: 'read' },
  listClusters: { kind: 'read' },
  getGroup: { kind: 'read' },
  listGroups: { kind: 'read' },
  createAssignment: { kind: 'tenant-write', tenantOf: field('assignment', 'tenant') },
  updateAssignment: { kind: 'tenant-write', tenantOf: field('assignment', 'tenant') },
  getAssignment: { kind: 'read', tenantOf: field('tenant') },
  listAssignments: { kind: 'read', pin: 'tenant' },
  deleteAssignment: { kind: 'tenant-write', tenantOf: field('tenant') },
  listAssignmentHistory: { kind: 'read', tenantOf: field('tenant') },
  rollbackAssignment: { kind: 'tenant-write', tenantOf: field('tenant') },
  reconcileAssignment: { kind: 'tenant-write', tenantOf: field('tenant') },
  diffAssignment: { kind: 'read', tenantOf: field('tenant') },
  treeAssignment: { kind: 'read', tenantOf: field('tenant') },
  getStatus: { kind: 'read', pin: 'tenant' },
  watchStatus: { kind: 'read', pin: 'tenant' },
  getRollout: { kind: 'read', tenantOf: field('tenant') },
  pauseRollout: { kind: 'tenant-write', tenantOf: field('tenant') },
  resumeRollout: { kind: 'tenant-write', tenantOf: field('tenant') },
  abortRollout: { kind: 'tenant-write', tenantOf: field('tenant') },
  undoRollout: { kind: 'tenant-write', tenantOf: field('tenant') },
  createReceiver: { kind: 'tenant-write', tenantOf: field('receiver', 'tenant') },
  getReceiver: { kind: 'read', tenantOf: field('tenant') },
  listReceivers: { kind: 'read', pin: 'tenant' },
  deleteReceiver: { kind: 'tenant-write', tenantOf: field('tenant') },
  // an alert without a tenant is an admin's: tenantOf is '' there, never a tenant token's tenant
  createAlert: { kind: 'tenant-write', tenantOf: field('alert', 'tenant') },
  getAlert: { kind: 'read', tenantOf: field('tenant') },
  listAlerts: { kind: 'read', pin: 'tenant' },
  deleteAlert: { kind: 'tenant-write', tenantOf: field('tenant') },
  testAlert: { kind: 'tenant-write', tenantOf: field('tenant') },
};

/** Cluster-wide reads a tenant may not make (clusters and their groups are the operator's). */
const NOT_FOR_TENANTS = new Set(['getCluster', 'listClusters', 'getGroup', 'listGroups']);

/**
 * Throws PermissionDeniedError unless `p` may call `method` with `request`. For tenant tokens it
 * pins list/status filters to the tenant by rewriting `request` in place.
 */
export function authorize(p: Principal, method: string, request: Record<string, unknown>): void {
  if (p.role === 'admin') return;
  const rule = RULES[method];
  const denied = (why: string) => new PermissionDeniedError(`${method}: ${why}`);
  if (!rule) throw denied(`needs an admin token (this one is ${p.role})`);
  if (p.role === 'viewer') {
    if (rule.kind !== 'read') throw denied('a viewer token is read-only');
    return;
  }
  // tenant
  if (NOT_FOR_TENANTS.has(method))
    throw denied('clusters and cluster groups are visible to admin and viewer tokens only');
  if (rule.kind === 'read' && rule.pin) {
    const asked = request[rule.pin];
    if (asked && asked !== p.tenant)
      throw denied(`this token is for tenant ${JSON.stringify(p.tenant)} only`);
    request[rule.pin] = p.tenant;
    return;
  }
  if (!rule.tenantOf) return; // listTenants: the response is filtered (see visibleTenants)
  if (rule.tenantOf(request) !== p.tenant) {
    throw denied(`this token is for tenant ${JSON.stringify(p.tenant)} only`);
  }
}

/** What a tenant token sees of a tenant list: only its own tenant. */
export function visibleTenants<T extends { name: string }>(p: Principal, tenants: T[]): T[] {
  return p.role === 'tenant' ? tenants.filter((t) => t.name === p.tenant) : tenants;
}

/**
 * The error a caller sees: one that names another tenant loses that name unless the caller may
 * see every tenant (admin and viewer tokens, who list them all anyway).
 */
export function visibleError(p: Principal | undefined, err: unknown): unknown {
  if (!(err instanceof NamesTenantError) || (p && p.role !== 'tenant')) return err;
  return new FailedPreconditionError(err.withoutTenant);
}

/** Methods that change something: these are audited. */
export function isMutation(method: string): boolean {
  return /^(create|update|delete|resolve|revoke|join|rollback|reconcile|pause|resume|abort|undo|testAlert)/.test(
    method,
  );
}

/**
 * Methods called without a bearer token because the request carries its own credential, checked
 * by the service: an agent's join (a one-time join token). Nothing else is public.
 */
const PUBLIC_METHODS = new Set(['join']);

export function isPublicMethod(method: string): boolean {
  return PUBLIC_METHODS.has(method);
}

/** Who made a public call, for the audit log: "join token <id>" (the id only, never the secret). */
export function publicActor(request: Record<string, unknown>): string {
  const id = tokenId(request.token as string, 'gfj');
  return id ? `join token ${id}` : 'anonymous';
}
