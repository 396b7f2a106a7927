// Tenant onboarding, as the agent's own identity: each tenant namespace, the ServiceAccount the
// tenant's assignments are applied as (in its first namespace), and in every tenant namespace a
// RoleBinding "gitfleet-<tenant>" of the tenant's ClusterRole to that ServiceAccount. Applied
// through the same change-detecting applier, so an unchanged tenant costs no writes; the result
// is remembered for the resync interval so many assignments of one tenant share one pass.
// Before anything is created, the identity is checked (tenant-identity.ts) and every namespace
// that already exists must not belong to another tenant.
import {
  DEFAULT_CLUSTER_ROLE,
  DEFAULT_SERVICE_ACCOUNT,
  LABEL_MANAGED_BY,
  MANAGED_BY,
  LABEL_TENANT,
  Reason,
  type TenantIdentity,
} from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import type { Applier } from '../apply/ssa.js';
import { errorMessage, ReconcileError } from '../errors.js';
import { serviceAccountUser, type KubeClient } from '../kube/kube-client.js';
import { labelValue, type ManifestObject } from '../kube/objects.js';
import { checkTenantIdentity, type TenantIdentityRules } from './tenant-identity.js';

export interface TenantOnboardingOptions {
  client: KubeClient;
  applier: Applier;
  log: Logger;
  /** How long a successful onboarding is trusted before it is checked again. */
  ttlMs: number;
  /** What a tenant identity may be on this cluster. */
  rules: TenantIdentityRules;
  now?: () => number;
}

/** The identity a tenant's objects are applied as. */
export function tenantUser(t: TenantIdentity): string {
  return serviceAccountUser(t.namespaces[0], t.serviceAccount || DEFAULT_SERVICE_ACCOUNT);
}

export function tenantObjects(t: TenantIdentity): ManifestObject[] {
  const sa = t.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
  const labels = { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_TENANT]: labelValue(t.name) };
  const out: ManifestObject[] = [];
  for (const ns of t.namespaces) {
    out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } });
  }
  out.push({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: sa, namespace: t.namespaces[0], labels },
  });
  for (const ns of t.namespaces) {
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `gitfleet-${t.name}`, namespace: ns, labels },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: t.clusterRole || DEFAULT_CLUSTER_ROLE,
      },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: t.namespaces[0] }],
    });
  }
  return out;
}

export class TenantOnboarding {
  private readonly done = new Map<string, { spec: string; at: number }>();
  private readonly inflight = new Map<string, { spec: string; p: Promise<void> }>();

  constructor(private readonly opts: TenantOnboardingOptions) {}

  /**
   * Ensures the tenant's namespaces, ServiceAccount and RoleBindings; TenantSetupFailed if not.
   * `peers` are the tenants of the same desired set (a namespace claimed twice is refused).
   */
  async ensure(t: TenantIdentity, peers: readonly TenantIdentity[]): Promise<void> {
    checkTenantIdentity(t, peers, this.opts.rules);
    const spec = JSON.stringify([t.namespaces, t.serviceAccount, t.clusterRole]);
    const now = (this.opts.now ?? Date.now)();
    const d = this.done.get(t.name);
    if (d && d.spec === spec && now - d.at < this.opts.ttlMs) return;
    const running = this.inflight.get(t.name);
    if (running && running.spec === spec) return running.p;
    const p = this.onboard(t, spec).finally(() => {
      if (this.inflight.get(t.name)?.p === p) this.inflight.delete(t.name);
    });
    this.inflight.set(t.name, { spec, p });
    return p;
  }

  /** Forget tenants that are no longer desired (their objects stay: namespaces hold data). */
  retain(names: Iterable<string>): void {
    const keep = new Set(names);
    for (const n of this.done.keys()) if (!keep.has(n)) this.done.delete(n);
  }

  private async onboard(t: TenantIdentity, spec: string): Promise<void> {
    await this.refuseForeignNamespaces(t);
    const items = tenantObjects(t).map((object) => ({ object, file: `tenant ${t.name}` }));
    const result = await this.opts.applier.apply(this.opts.client, items, { force: true });
    if (result.failures.length > 0) {
      this.done.delete(t.name);
      const first = result.failures[0].message;
      const more = result.failures.length > 1 ? ` (and ${result.failures.length - 1} more)` : '';
      throw new ReconcileError(Reason.TenantSetupFailed, `set up tenant ${t.name}: ${first}${more}`);
    }
    const changed = result.changes.filter((c) => c.action !== 'unchanged').length;
    if (changed > 0) this.opts.log.info({ tenant: t.name, changed }, 'tenant set up');
    this.done.set(t.name, { spec, at: (this.opts.now ?? Date.now)() });
  }

  /** A namespace that exists labelled for another tenant stays that tenant's: refuse, create nothing. */
  private async refuseForeignNamespaces(t: TenantIdentity): Promise<void> {
    const mine = labelValue(t.name);
    for (const ns of t.namespaces) {
      let live;
      try {
        live = await this.opts.client.get({ apiVersion: 'v1', kind: 'Namespace', namespace: '', name: ns });
      } catch (err) {
        throw new ReconcileError(
          Reason.TenantSetupFailed,
          `set up tenant ${t.name}: read namespace ${ns}: ${errorMessage(err)}`,
          {
            cause: err,
          },
        );
      }
      const labels = (live?.metadata as { labels?: Record<string, string> } | undefined)?.labels ?? {};
      const owner = labels[LABEL_TENANT];
      if (owner !== undefined && owner !== mine) {
        this.done.delete(t.name);
        throw new ReconcileError(
          Reason.TenantSetupFailed,
          `tenant ${t.name} refused: namespace ${ns} already exists and belongs to another tenant (label ${LABEL_TENANT}); nothing was created for it`,
          { stalled: true },
        );
      }
    }
  }
}
