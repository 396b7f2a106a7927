import { describe, expect, it } from '@jest/globals';
import { Reason, type TenantIdentity } from '../../proto/index.js';
import { ReconcileError } from '../errors.js';
import { checkTenantIdentity, tenantIdentityProblem } from './tenant-identity.js';

const rules = { agentNamespace: 'fleet-agent', clusterRoles: ['admin', 'edit', 'view'] };
const t = (fields: Partial<TenantIdentity> = {}): TenantIdentity => ({
  name: 'team-b',
  namespaces: ['team-b'],
  serviceAccount: 'gitfleet-reconciler',
  clusterRole: 'admin',
  allowedClusterKinds: [],
  ...fields,
});

describe('tenant identity received on the bus', () => {
  it('accepts what the hub sends, and empty fields as the defaults', () => {
    expect(tenantIdentityProblem(t(), [t()], rules)).toBeUndefined();
    expect(tenantIdentityProblem(t({ serviceAccount: '', clusterRole: '' }), [], rules)).toBeUndefined();
  });

  it.each([
    [{ namespaces: ['kube-system'] }, 'namespaces[0]: "kube-system" is reserved'],
    [{ namespaces: ['team-b', 'default'] }, 'namespaces[1]: "default" is reserved'],
    [{ namespaces: ['gitfleet-system'] }, 'namespaces[0]: "gitfleet-system" is reserved'],
    [{ namespaces: ['fleet-agent'] }, `namespaces[0]: "fleet-agent" is the agent's own namespace`],
    [{ namespaces: [] }, 'namespaces: none given'],
    [{ namespaces: ['Bad'] }, 'namespaces[0]: "Bad" is not a valid namespace name'],
    [{ namespaces: ['a', 'a'] }, 'namespaces[1]: "a" is listed twice'],
    [
      { serviceAccount: 'clusterrole-aggregation-controller' },
      'service_account: "clusterrole-aggregation-controller" is not gitfleet-reconciler',
    ],
    [{ clusterRole: 'cluster-admin' }, 'cluster_role: "cluster-admin" is never granted'],
    [
      { clusterRole: 'system:controller:clusterrole-aggregation-controller' },
      'cluster_role: "system:controller',
    ],
    [
      { clusterRole: 'deployer' },
      'cluster_role: "deployer" is not one of the cluster roles the operator allows',
    ],
    [{ clusterRole: 'admin\u0000' }, 'cluster_role: "admin\\u0000" contains a control character'],
    [{ allowedClusterKinds: ['*'] }, 'allowed_cluster_kinds[0]: "*": "*" is not a Kubernetes kind'],
    [{ name: 'a.b' }, 'name "a.b" is not a valid tenant name'],
  ])('refuses %j', (fields, message) => {
    expect(tenantIdentityProblem(t(fields), [], rules)).toContain(message);
  });

  it('refuses a namespace two tenants of the same set claim, for both', () => {
    const a = t({ name: 'team-a', namespaces: ['team-a', 'shared'] });
    const b = t({ namespaces: ['team-b', 'shared'] });
    expect(tenantIdentityProblem(b, [a, b], rules)).toBe(
      'namespaces[1]: namespace "shared" is also claimed by tenant team-a',
    );
    expect(tenantIdentityProblem(a, [a, b], rules)).toContain('also claimed by tenant team-b');
  });

  it('throws a stalled TenantSetupFailed naming tenant and field', () => {
    let err: unknown;
    try {
      checkTenantIdentity(t({ namespaces: ['kube-system'] }), [], rules);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ReconcileError);
    expect((err as ReconcileError).reason).toBe(Reason.TenantSetupFailed);
    expect((err as ReconcileError).stalled).toBe(true);
    expect((err as ReconcileError).message).toBe(
      'tenant "team-b" refused: namespaces[0]: "kube-system" is reserved (kube-* belongs to Kubernetes); nothing was created for it',
    );
  });
});
