// Hostile tenants, on real servers: the hub's API refuses identities a tenant must never get
// (reserved or foreign namespaces, a chosen ServiceAccount, cluster-admin, control characters),
// and the agent, on a real kube-apiserver, refuses forged identities on the bus and revisions that
// reach outside the tenant — each with a clear error, nothing applied or changed, nothing leaked.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { status as Code } from '@grpc/grpc-js';
import { RbacAuthorizationV1Api, type V1ClusterRole } from '@kubernetes/client-node';
import {
  AssignmentState,
  Reason,
  type AssignmentStatus,
  type DeepPartial,
  type DesiredAssignment,
  type TenantIdentity,
} from '../../proto/index.js';
import { startNats, type GitRepo, type NatsEnv } from '../env/index.js';
import { AgentHarness } from '../integration/agent/agent-harness.js';
import { grpcError, startTestHub, tempDir, type TestHub } from '../integration/hub/harness.js';

const SA = 'gitfleet-reconciler';
const RBAC = 'rbac.authorization.k8s.io/v1';

const ident = (name: string, namespaces: string[], fields: Partial<TenantIdentity> = {}) => ({
  name,
  namespaces,
  serviceAccount: SA,
  clusterRole: 'admin',
  allowedClusterKinds: [],
  ...fields,
});

const cmYaml = (name: string, namespace?: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ''}data:\n  k: v\n`;

const hostileFiles: Record<string, string> = {
  'ok/cm.yaml': cmYaml('ok'),
  // one object of the tenant's own, one in the victim's namespace: neither may be applied
  'other-ns/cm.yaml': `${cmYaml('mine')}---\n${cmYaml('planted', 'team-v')}`,
  'crb/crb.yaml': `apiVersion: ${RBAC}
kind: ClusterRoleBinding
metadata:
  name: hostile-crb
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: ${SA}, namespace: team-h}]
`,
  'rb-admin/rb.yaml': `apiVersion: ${RBAC}
kind: RoleBinding
metadata:
  name: hostile-rb
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: ${SA}, namespace: team-h}]
`,
  'clusterrole/cr.yaml': `apiVersion: ${RBAC}
kind: ClusterRole
metadata:
  name: hostile-reader
rules: [{apiGroups: [''], resources: [configmaps], verbs: [get]}]
`,
  // the escalation of the issue: take over the aggregation controller's role with '*'
  'escalate/cr.yaml': `apiVersion: ${RBAC}
kind: ClusterRole
metadata:
  name: system:controller:clusterrole-aggregation-controller
rules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]
`,
};

function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 404;
}

describe('hostile tenants', () => {
  let h: AgentHarness;
  let hubNats: NatsEnv | undefined;
  let t: TestHub | undefined;
  let repo: GitRepo;
  let commit: string;
  let rbac: RbacAuthorizationV1Api;
  let password: string;
  const tmp = tempDir('gitfleet-hostile-tenancy-');

  beforeAll(async () => {
    h = await AgentHarness.start();
    rbac = h.kc.makeApiClient(RbacAuthorizationV1Api);
    repo = await h.git.createRepo('hostile', hostileFiles);
    commit = await repo.head();
    password = (h.web(commit).source?.credentials?.password as string) ?? '';
    await h.hub.createBus();
    await h.startAgent();
    // the hub under attack has a bus of its own: the agent suites' bus belongs to the hub double
    hubNats = await startNats();
    t = await startTestHub({ natsUrl: hubNats.url, db: `${tmp.dir}/hub.db` });
    await t.client.tenants.createTenant({
      tenant: { name: 'team-a', namespaces: ['team-a', 'team-a-extra'] },
    });
  }, 240_000);

  afterAll(async () => {
    await t?.stop();
    await hubNats?.destroy();
    await h?.stop();
    tmp.remove();
  }, 60_000);

  // ---- the hub's API ------------------------------------------------------------------------

  /** The call fails with `code` and exactly `message`, and the tenant list is unchanged. */
  async function refusedByHub(call: () => Promise<unknown>, code: Code, message: string): Promise<void> {
    const before = await t!.client.tenants.listTenants({});
    const err = await grpcError(call());
    expect([err.code, err.details]).toEqual([code, message]);
    expect(await t!.client.tenants.listTenants({})).toEqual(before);
  }

  it('refuses kube-system with the aggregation controller ServiceAccount (the escalation of the issue)', async () => {
    const create = (fields: object) => () =>
      t!.client.tenants.createTenant({ tenant: { name: 'esc', namespaces: ['kube-system'], ...fields } });
    await refusedByHub(
      create({ serviceAccount: 'clusterrole-aggregation-controller' }),
      Code.INVALID_ARGUMENT,
      `tenant.namespaces[0]: "kube-system" is reserved (kube-* belongs to Kubernetes): choose a namespace of the tenant's own`,
    );
    await refusedByHub(
      () =>
        t!.client.tenants.createTenant({
          tenant: { name: 'esc', namespaces: ['esc'], serviceAccount: 'clusterrole-aggregation-controller' },
        }),
      Code.INVALID_ARGUMENT,
      'tenant.service_account: "clusterrole-aggregation-controller": the ServiceAccount is chosen by the hub (gitfleet-reconciler); leave it empty',
    );
  });

  it("refuses another tenant's namespace on create and on update, naming the owner to the admin", async () => {
    // tenant tokens cannot create or update tenants, and would get the message without the
    // owner's name (hub/auth/access.ts visibleError, access.spec.ts)
    const message =
      'tenant.namespaces[1]: namespace "team-a-extra" is owned by tenant "team-a": a namespace belongs to one tenant only, choose another';
    await refusedByHub(
      () =>
        t!.client.tenants.createTenant({
          tenant: { name: 'team-x', namespaces: ['team-x', 'team-a-extra'] },
        }),
      Code.FAILED_PRECONDITION,
      message,
    );
    await t!.client.tenants.createTenant({ tenant: { name: 'team-x', namespaces: ['team-x'] } });
    await refusedByHub(
      () =>
        t!.client.tenants.updateTenant({
          tenant: { name: 'team-x', namespaces: ['team-x', 'team-a-extra'] },
        }),
      Code.FAILED_PRECONDITION,
      message,
    );
    expect((await t!.client.tenants.getTenant({ name: 'team-x' })).namespaces).toEqual(['team-x']);
    await t!.client.tenants.deleteTenant({ name: 'team-x' });
  });

  it('gives a namespace to exactly one of many tenants created at the same moment', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        t!.client.tenants.createTenant({
          tenant: { name: `racer-${i}`, namespaces: [`racer-${i}`, 'contested'] },
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected')
        expect((r.reason as Error).message).toMatch(/is owned by tenant "racer-[0-7]"/);
    }
    const owners = (await t!.client.tenants.listTenants({})).tenants.filter((x) =>
      x.namespaces.includes('contested'),
    );
    expect(owners).toHaveLength(1);
    for (let i = 0; i < 8; i++)
      await t!.client.tenants.deleteTenant({ name: `racer-${i}` }).catch(() => undefined);
  });

  it.each([
    [
      'the agents namespace',
      { namespaces: ['gitfleet-system'] },
      `tenant.namespaces[0]: "gitfleet-system" is reserved (gitfleet-* is the agents' namespace family): choose a namespace of the tenant's own`,
    ],
    [
      'default',
      { namespaces: ['default'] },
      `tenant.namespaces[0]: "default" is reserved for the cluster's own use: choose a namespace of the tenant's own`,
    ],
    [
      'a NUL byte in the cluster role',
      { namespaces: ['evil'], clusterRole: 'admin\u0000' },
      'tenant.cluster_role: "admin\\u0000" contains a control character',
    ],
    [
      'cluster-admin',
      { namespaces: ['evil'], clusterRole: 'cluster-admin' },
      'tenant.cluster_role: "cluster-admin" is never granted to a tenant',
    ],
    [
      'a role the operator did not allow',
      { namespaces: ['evil'], clusterRole: 'deployer' },
      'tenant.cluster_role: "deployer" is not one of the cluster roles the operator allows (admin, edit, view; see --tenant-cluster-role)',
    ],
    [
      'a system: role',
      { namespaces: ['evil'], clusterRole: 'system:aggregate-to-admin' },
      'tenant.cluster_role: "system:aggregate-to-admin": system:* roles are never granted to a tenant',
    ],
    [
      'a malformed cluster kind',
      { namespaces: ['evil'], allowedClusterKinds: ['*'] },
      'tenant.allowed_cluster_kinds[0]: "*": "*" is not a Kubernetes kind (CamelCase letters and digits, e.g. "ClusterRole")',
    ],
  ])('refuses %s', async (_, fields, message) => {
    await refusedByHub(
      () => t!.client.tenants.createTenant({ tenant: { name: 'evil', ...fields } }),
      Code.INVALID_ARGUMENT,
      message,
    );
  });

  it('refuses to start with cluster-admin in its cluster-role allowlist', async () => {
    await expect(
      startTestHub({
        natsUrl: hubNats!.url,
        db: ':memory:',
        tenantClusterRoles: ['admin', 'cluster-admin'],
      }),
    ).rejects.toThrow('invalid hub config: tenantClusterRoles: "cluster-admin" is never granted to a tenant');
  });

  // ---- the agent ----------------------------------------------------------------------------

  const hostile = (name: string, path: string, tenant = 'team-h'): DeepPartial<DesiredAssignment> => {
    const base = h.web(commit);
    return {
      ...base,
      tenant,
      name,
      repo: 'hostile',
      path,
      // the tenant's first namespace (a namespace outside the tenant fails the set's validation)
      targetNamespace: '',
      source: { ...base.source, url: repo.url },
    };
  };
  const teamH = (fields: Partial<TenantIdentity> = {}) => ident('team-h', ['team-h'], fields);
  const teamV = ident('team-v', ['team-v']);

  /** Publishes, then waits for the assignment's first status after now that is not Progressing. */
  async function outcome(
    tenants: DeepPartial<TenantIdentity>[],
    assignments: DeepPartial<DesiredAssignment>[],
    name: string,
  ): Promise<AssignmentStatus> {
    const after = h.hub.statuses.length;
    const set = await h.hub.publish({ tenants, assignments });
    return h.hub.waitForStatus(
      (s) =>
        s.assignment === name &&
        s.observedGeneration === set.generation &&
        s.state !== AssignmentState.ASSIGNMENT_STATE_PROGRESSING,
      { after },
    );
  }

  async function exists(read: () => Promise<unknown>): Promise<boolean> {
    try {
      await read();
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  const rbWrites = () => h.kube.writeRequests(['rolebindings', 'clusterrolebindings']);

  it('applies a good revision of the attacker and of the victim first (the baseline)', async () => {
    const s = await outcome([teamH(), teamV], [hostile('ok', 'ok'), hostile('victim', 'ok', 'team-v')], 'ok');
    expect(s.reason).toBe(Reason.ReconciliationSucceeded);
    expect(await h.configMap('team-h', 'ok')).toBeDefined();
    await h.hub.waitForStatus(
      (x) => x.assignment === 'victim' && x.reason === Reason.ReconciliationSucceeded,
    );
  });

  /** Refused with PolicyViolation, naming file and object; no RBAC write; nothing leaked. */
  async function refusedByPolicy(
    path: string,
    message: string,
    tenant: DeepPartial<TenantIdentity> = teamH(),
  ): Promise<AssignmentStatus> {
    const writes = await rbWrites();
    const s = await outcome([tenant, teamV], [hostile('ok', 'ok'), hostile(path, path)], path);
    expect([s.state, s.reason]).toEqual([AssignmentState.ASSIGNMENT_STATE_FAILED, Reason.PolicyViolation]);
    expect(s.message).toContain('refused, nothing of this revision was applied: ');
    expect(s.message).toContain(message);
    expect(s.appliedRevision).toBe('');
    expect(s.objects).toBe(0);
    expect(s.conditions.find((c) => c.type === 'Stalled')?.status).toBe('True');
    expect(JSON.stringify(s)).not.toContain(password);
    expect(await rbWrites()).toBe(writes);
    return s;
  }

  it("refuses a revision with objects for another tenant's namespace, and applies none of it", async () => {
    await refusedByPolicy(
      'other-ns',
      `other-ns/cm.yaml (document 2): ConfigMap team-v/planted: namespace "team-v" is not one of tenant team-h's namespaces (team-h)`,
    );
    expect(await h.configMap('team-v', 'planted')).toBeUndefined();
    expect(await h.configMap('team-h', 'mine')).toBeUndefined();
  });

  it('refuses a ClusterRoleBinding from a tenant', async () => {
    await refusedByPolicy(
      'crb',
      'crb/crb.yaml (document 1): ClusterRoleBinding hostile-crb: cluster-scoped rbac.authorization.k8s.io/ClusterRoleBinding is not granted to tenant team-h',
    );
    expect(await exists(() => rbac.readClusterRoleBinding({ name: 'hostile-crb' }))).toBe(false);
  });

  it('refuses a RoleBinding to cluster-admin', async () => {
    await refusedByPolicy(
      'rb-admin',
      'rb-admin/rb.yaml (document 1): RoleBinding team-h/hostile-rb: binds cluster-admin, which is never granted to a tenant',
    );
    expect(
      await exists(() => rbac.readNamespacedRoleBinding({ namespace: 'team-h', name: 'hostile-rb' })),
    ).toBe(false);
  });

  it('refuses a ClusterRole when the kind is not granted, applies it when it is', async () => {
    await refusedByPolicy(
      'clusterrole',
      'clusterrole/cr.yaml (document 1): ClusterRole hostile-reader: cluster-scoped rbac.authorization.k8s.io/ClusterRole is not granted to tenant team-h (an operator grants it with: gitfleet tenant update team-h ... --allow-cluster-kind rbac.authorization.k8s.io/ClusterRole)',
    );
    expect(await exists(() => rbac.readClusterRole({ name: 'hostile-reader' }))).toBe(false);

    // the operator grants the kind, and RBAC for it on the cluster (the API server's own wall)
    await rbac.createClusterRole({
      body: {
        metadata: { name: 'test-clusterrole-manager' },
        rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['*'] }],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'test-clusterrole-manager' },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'test-clusterrole-manager',
        },
        subjects: [{ kind: 'ServiceAccount', name: SA, namespace: 'team-h' }],
      },
    });
    const granted = teamH({ allowedClusterKinds: ['rbac.authorization.k8s.io/ClusterRole'] });
    const s = await outcome(
      [granted, teamV],
      [hostile('ok', 'ok'), hostile('clusterrole', 'clusterrole')],
      'clusterrole',
    );
    expect(s.reason).toBe(Reason.ReconciliationSucceeded);
    expect(s.message).toContain('1 created');
    expect(await exists(() => rbac.readClusterRole({ name: 'hostile-reader' }))).toBe(true);
  });

  it("refuses the aggregation controller's system role even where ClusterRoles are granted", async () => {
    const before: V1ClusterRole = await rbac.readClusterRole({
      name: 'system:controller:clusterrole-aggregation-controller',
    });
    await refusedByPolicy(
      'escalate',
      'escalate/cr.yaml (document 1): ClusterRole system:controller:clusterrole-aggregation-controller: "system:controller:clusterrole-aggregation-controller": system:* names belong to Kubernetes',
      teamH({ allowedClusterKinds: ['rbac.authorization.k8s.io/ClusterRole'] }),
    );
    const after = await rbac.readClusterRole({
      name: 'system:controller:clusterrole-aggregation-controller',
    });
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });

  /** A forged identity is refused before onboarding: TenantSetupFailed, nothing created. */
  async function refusedIdentity(
    forged: DeepPartial<TenantIdentity>,
    message: string,
    extra: DeepPartial<TenantIdentity>[] = [],
  ): Promise<void> {
    const writes = await rbWrites();
    const name = forged.name as string;
    const s = await outcome(
      [teamH(), teamV, forged, ...extra],
      [hostile('ok', 'ok'), hostile(`forged-${name}`, 'ok', name)],
      `forged-${name}`,
    );
    expect([s.state, s.reason, s.message]).toEqual([
      AssignmentState.ASSIGNMENT_STATE_FAILED,
      Reason.TenantSetupFailed,
      `tenant "${name}" refused: ${message}; nothing was created for it`,
    ]);
    expect(s.conditions.find((c) => c.type === 'Stalled')?.status).toBe('True');
    expect(await rbWrites()).toBe(writes);
    // every other tenant on the cluster goes on
    const ok = h.agent!.statuses().find((x) => x.assignment === 'ok');
    expect(ok?.reason).toBe(Reason.ReconciliationSucceeded);
  }

  it('refuses a forged identity on the bus that claims kube-system as the aggregation controller', async () => {
    await refusedIdentity(
      ident('esc', ['kube-system'], {
        serviceAccount: 'clusterrole-aggregation-controller',
        clusterRole: 'cluster-admin',
      }),
      'namespaces[0]: "kube-system" is reserved (kube-* belongs to Kubernetes)',
    );
    expect(
      await exists(() => rbac.readNamespacedRoleBinding({ namespace: 'kube-system', name: 'gitfleet-esc' })),
    ).toBe(false);
  });

  it.each([
    [
      'a ServiceAccount other than the hub choice',
      ident('sa', ['sa-ns'], { serviceAccount: 'default' }),
      'service_account: "default" is not gitfleet-reconciler, the only ServiceAccount tenants are applied as',
      'sa-ns',
    ],
    [
      'cluster-admin',
      ident('ca', ['ca-ns'], { clusterRole: 'cluster-admin' }),
      'cluster_role: "cluster-admin" is never granted to a tenant',
      'ca-ns',
    ],
    [
      "the agent's namespace",
      ident('ag', ['gitfleet-system']),
      `namespaces[0]: "gitfleet-system" is reserved (gitfleet-* is the agents' namespace family)`,
      undefined,
    ],
    [
      "another tenant's namespace in the same set",
      ident('twin', ['team-v']),
      'namespaces[0]: namespace "team-v" is also claimed by tenant team-v',
      undefined,
    ],
  ])('refuses a forged identity with %s', async (_, forged, message, namespace) => {
    await refusedIdentity(forged, message);
    if (namespace) expect(await exists(() => h.core.readNamespace({ name: namespace }))).toBe(false);
  });

  it('refuses to onboard into a namespace that exists labelled for another tenant', async () => {
    // team-v's namespace, from the baseline: a set that no longer lists team-v does not free it
    const s = await outcome(
      [teamH(), ident('thief', ['team-v'])],
      [hostile('thief', 'ok', 'thief')],
      'thief',
    );
    expect([s.reason, s.message]).toEqual([
      Reason.TenantSetupFailed,
      'tenant thief refused: namespace team-v already exists and belongs to another tenant (label gitfleet.dev/tenant); nothing was created for it',
    ]);
    expect(
      await exists(() => rbac.readNamespacedRoleBinding({ namespace: 'team-v', name: 'gitfleet-thief' })),
    ).toBe(false);
  });
});
