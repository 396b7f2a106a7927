import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { fuzzParams } from '../../test/fuzz/fuzz-params.js';
import { Reason, type TenantIdentity } from '../../proto/index.js';
import { ReconcileError } from '../errors.js';
import type { ManifestObject } from '../kube/objects.js';
import type { RenderedObject } from '../render/plain/plain-renderer.js';
import { checkTenantPolicy, policyViolations } from './tenant-policy.js';

const tenant: TenantIdentity = {
  name: 'team-b',
  namespaces: ['team-b', 'team-b-jobs'],
  serviceAccount: 'gitfleet-reconciler',
  clusterRole: 'admin',
  allowedClusterKinds: [],
};

const rendered = (object: ManifestObject, file = 'deploy/x.yaml'): RenderedObject => ({
  object,
  file,
  document: 1,
});
const cm = (namespace: string): ManifestObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'cfg', namespace },
});
const binding = (kind: 'RoleBinding' | 'ClusterRoleBinding', role: string): ManifestObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: kind === 'RoleBinding' ? { name: 'b', namespace: 'team-b' } : { name: 'b' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
  subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'team-b' }],
});
const clusterRole = (name: string, labels: Record<string, string> = {}): ManifestObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name, labels },
  rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
});

function refusal(objects: ManifestObject[], t: TenantIdentity = tenant): ReconcileError {
  try {
    checkTenantPolicy(
      objects.map((o) => rendered(o)),
      t,
    );
  } catch (err) {
    return err as ReconcileError;
  }
  throw new Error('expected a refusal');
}

describe('tenant policy', () => {
  it("allows the tenant's own namespaced objects and Namespaces", () => {
    const ok = [
      cm('team-b'),
      cm('team-b-jobs'),
      binding('RoleBinding', 'edit'),
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b-jobs' } },
    ];
    expect(
      policyViolations(
        ok.map((o) => rendered(o)),
        tenant,
      ),
    ).toEqual([]);
  });

  it.each([
    [
      [cm('team-a')],
      `deploy/x.yaml (document 1): ConfigMap team-a/cfg: namespace "team-a" is not one of tenant team-b's namespaces (team-b, team-b-jobs)`,
    ],
    [[cm('kube-system')], 'ConfigMap kube-system/cfg: namespace "kube-system" is not one of'],
    [
      [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } }],
      'Namespace team-a: namespace "team-a" is not one of',
    ],
    [
      [binding('ClusterRoleBinding', 'view')],
      'ClusterRoleBinding b: cluster-scoped rbac.authorization.k8s.io/ClusterRoleBinding is not granted to tenant team-b',
    ],
    [
      [binding('RoleBinding', 'cluster-admin')],
      'RoleBinding team-b/b: binds cluster-admin, which is never granted to a tenant',
    ],
    [
      [binding('RoleBinding', 'system:controller:clusterrole-aggregation-controller')],
      'system:* roles are never granted',
    ],
    [
      [clusterRole('reader')],
      'ClusterRole reader: cluster-scoped rbac.authorization.k8s.io/ClusterRole is not granted',
    ],
    [
      [{ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'p' } }],
      '--allow-cluster-kind scheduling.k8s.io/PriorityClass',
    ],
  ])('refuses %j', (objects, message) => {
    const err = refusal(objects);
    expect(err.reason).toBe(Reason.PolicyViolation);
    expect(err.stalled).toBe(true);
    expect(err.message).toContain('nothing of this revision was applied');
    expect(err.message).toContain(message);
  });

  it('applies grants by "Kind" or "group/Kind", but never system:* names or aggregation', () => {
    const granted = {
      ...tenant,
      allowedClusterKinds: ['rbac.authorization.k8s.io/ClusterRole', 'ClusterRoleBinding'],
    };
    expect(
      policyViolations(
        [rendered(clusterRole('reader')), rendered(binding('ClusterRoleBinding', 'reader'))],
        granted,
      ),
    ).toEqual([]);
    expect(
      refusal([clusterRole('system:controller:clusterrole-aggregation-controller')], granted).message,
    ).toContain('system:* names belong to Kubernetes');
    expect(
      refusal([clusterRole('more', { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' })], granted)
        .message,
    ).toContain('label rbac.authorization.k8s.io/aggregate-to-admin would add its rules');
    expect(refusal([binding('ClusterRoleBinding', 'cluster-admin')], granted).message).toContain(
      'binds cluster-admin',
    );
    // a grant names one group: the same kind in another group stays refused
    const other = { apiVersion: 'example.com/v1', kind: 'ClusterRole', metadata: { name: 'x' } };
    expect(
      refusal([other], { ...tenant, allowedClusterKinds: ['rbac.authorization.k8s.io/ClusterRole'] }).message,
    ).toContain('cluster-scoped example.com/ClusterRole is not granted');
  });

  it('lists three violations and counts the rest', () => {
    const err = refusal(['a', 'b', 'c', 'd', 'e'].map((n) => cm(`other-${n}`)));
    expect(err.message.match(/ConfigMap other-/g)).toHaveLength(3);
    expect(err.message).toContain('; and 2 more');
  });

  it('refuses every object outside the tenant namespaces (fuzz)', () => {
    const ns = fc
      .stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/)
      .filter((n) => !tenant.namespaces.includes(n));
    fc.assert(
      fc.property(ns, fc.boolean(), (namespace, asNamespaceObject) => {
        const object: ManifestObject = asNamespaceObject
          ? { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }
          : cm(namespace);
        expect(policyViolations([rendered(cm('team-b')), rendered(object)], tenant)).toHaveLength(1);
      }),
      fuzzParams(200),
    );
  });
});
