// The hub's gRPC API through a real grpc-js client: CRUD of tenants, repos, clusters and
// assignments, and the status codes and messages of invalid requests.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { status as Code } from '@grpc/grpc-js';
import { startGit, startNats, type GitEnv, type GitRepo, type NatsEnv } from '../../env/index.js';
import { busProbe, eventually, grpcError, startTestHub, tempDir, type TestHub } from './harness.js';

// real servers: `testTimeout` in a jest project config is not honoured, so set it here
describe('hub API', () => {
  let nats: NatsEnv | undefined;
  let git: GitEnv | undefined;
  let repo: GitRepo;
  let t: TestHub | undefined;
  const tmp = tempDir('gitfleet-hub-api-');

  beforeAll(async () => {
    nats = await startNats();
    git = await startGit();
    repo = await git.createRepo('app', { 'deploy/cm.yaml': 'kind: ConfigMap\n' });
    t = await startTestHub({ natsUrl: nats.url, db: `${tmp.dir}/hub.db` });
  });

  afterAll(async () => {
    await t?.stop();
    await git?.stop();
    await nats?.destroy();
    tmp.remove();
  });

  it('creates, gets, lists and deletes tenants', async () => {
    const { tenants } = t!.client;
    const created = await tenants.createTenant({
      tenant: { name: 'team-a', namespaces: ['team-a', 'team-a-2'] },
    });
    expect(created).toMatchObject({
      name: 'team-a',
      namespaces: ['team-a', 'team-a-2'],
      serviceAccount: 'gitfleet-reconciler',
      clusterRole: 'admin',
    });
    expect(created.createdAtMs).toBeGreaterThan(0);
    expect(await tenants.getTenant({ name: 'team-a' })).toEqual(created);
    await tenants.createTenant({ tenant: { name: 'scratch', namespaces: ['scratch'], clusterRole: 'edit' } });
    expect((await tenants.listTenants({})).tenants.map((x) => x.name)).toEqual(['scratch', 'team-a']);
    await tenants.deleteTenant({ name: 'scratch' });
    expect((await tenants.listTenants({})).tenants.map((x) => x.name)).toEqual(['team-a']);
  });

  it('updates a tenant; a namespace it drops is free for another tenant', async () => {
    const { tenants } = t!.client;
    const created = await tenants.createTenant({ tenant: { name: 'ops', namespaces: ['ops', 'ops-jobs'] } });
    const updated = await tenants.updateTenant({
      tenant: {
        name: 'ops',
        namespaces: ['ops'],
        clusterRole: 'edit',
        allowedClusterKinds: ['rbac.authorization.k8s.io/ClusterRole', 'PriorityClass'],
      },
    });
    expect(updated).toEqual({
      ...created,
      namespaces: ['ops'],
      clusterRole: 'edit',
      allowedClusterKinds: ['PriorityClass', 'rbac.authorization.k8s.io/ClusterRole'],
    });
    expect(await tenants.getTenant({ name: 'ops' })).toEqual(updated);
    await tenants.createTenant({ tenant: { name: 'jobs', namespaces: ['ops-jobs'] } });
    const err = await grpcError(tenants.updateTenant({ tenant: { name: 'nobody', namespaces: ['nobody'] } }));
    expect([err.code, err.details]).toEqual([Code.NOT_FOUND, 'tenant "nobody" not found']);
    await tenants.deleteTenant({ name: 'jobs' });
    await tenants.deleteTenant({ name: 'ops' });
  });

  it('answers INVALID_ARGUMENT naming the field, NOT_FOUND and ALREADY_EXISTS', async () => {
    const { tenants, repos, clusters, assignments } = t!.client;
    const cases: Array<[Promise<unknown>, Code, string]> = [
      [
        tenants.createTenant({ tenant: { name: 'Team B', namespaces: ['b'] } }),
        Code.INVALID_ARGUMENT,
        'tenant.name: ',
      ],
      [
        tenants.createTenant({ tenant: { name: 'team-b' } }),
        Code.INVALID_ARGUMENT,
        'tenant.namespaces: at least one',
      ],
      [
        tenants.createTenant({ tenant: { name: 'team-a', namespaces: ['x'] } }),
        Code.ALREADY_EXISTS,
        'tenant "team-a" already exists',
      ],
      [tenants.getTenant({ name: 'nobody' }), Code.NOT_FOUND, 'tenant "nobody" not found'],
      [tenants.deleteTenant({ name: 'nobody' }), Code.NOT_FOUND, 'tenant "nobody" not found'],
      [
        repos.createRepo({ repo: { tenant: 'team-a', name: 'x', url: 'ftp://example.com/x' } }),
        Code.INVALID_ARGUMENT,
        'repo.url: must be an http(s), ssh or git URL',
      ],
      [
        repos.createRepo({ repo: { tenant: 'team-a', name: 'x', url: repo.url, branch: 'main', tag: 'v1' } }),
        Code.INVALID_ARGUMENT,
        'repo.tag: give at most one of branch, tag, commit',
      ],
      [
        repos.createRepo({ repo: { tenant: 'nobody', name: 'x', url: repo.url } }),
        Code.NOT_FOUND,
        'tenant "nobody" not found',
      ],
      [repos.getRepo({ tenant: 'team-a', name: 'nope' }), Code.NOT_FOUND, 'repo "team-a/nope" not found'],
      [
        clusters.createCluster({ cluster: { name: 'c1', labels: { 'not valid': 'x' } } }),
        Code.INVALID_ARGUMENT,
        'cluster.labels["not valid"]: ',
      ],
      [clusters.getCluster({ name: 'nope' }), Code.NOT_FOUND, 'cluster "nope" not found'],
      [
        assignments.createAssignment({ assignment: { tenant: 'team-a', name: 'web', repo: 'nope' } }),
        Code.NOT_FOUND,
        'repo "team-a/nope" not found',
      ],
      [
        assignments.createAssignment({ assignment: { tenant: 'nobody', name: 'web', repo: 'app' } }),
        Code.NOT_FOUND,
        'tenant "nobody" not found',
      ],
      [
        assignments.getAssignment({ tenant: 'team-a', name: 'nope' }),
        Code.NOT_FOUND,
        'assignment "team-a/nope" not found',
      ],
    ];
    for (const [call, code, message] of cases) {
      const err = await grpcError(call);
      expect({ code: err.code, details: err.details }).toEqual({
        code,
        details: expect.stringContaining(message),
      });
    }
  });

  it('manages repos; credentials are stored but never returned', async () => {
    const { repos } = t!.client;
    const created = await repos.createRepo({
      repo: {
        tenant: 'team-a',
        name: 'app',
        url: repo.url,
        credentials: { username: 'bot', password: 'hunter2' },
      },
    });
    expect(created).toMatchObject({
      tenant: 'team-a',
      name: 'app',
      type: 'git',
      url: repo.url,
      branch: 'main',
      intervalSeconds: 60,
      hasCredentials: true,
      credentials: undefined,
      revision: `main@sha1:${await repo.head()}`,
    });
    const err = await grpcError(repos.createRepo({ repo: { tenant: 'team-a', name: 'app', url: repo.url } }));
    expect(err.code).toBe(Code.ALREADY_EXISTS);
    const listed = await repos.listRepos({ tenant: 'team-a' });
    expect(listed.repos.map((r) => r.name)).toEqual(['app']);
    expect(JSON.stringify(listed)).not.toContain('hunter2');
    expect(JSON.stringify(await repos.getRepo({ tenant: 'team-a', name: 'app' }))).not.toContain('hunter2');
  });

  it('manages clusters and filters them by selector', async () => {
    const { clusters } = t!.client;
    const c1 = await clusters.createCluster({
      cluster: { name: 'c1', labels: { env: 'prod', region: 'eu' } },
    });
    expect(c1).toMatchObject({ name: 'c1', labels: { env: 'prod', region: 'eu' }, desiredGeneration: 1 });
    await clusters.createCluster({ cluster: { name: 'c2', labels: { env: 'dev' } } });
    expect((await grpcError(clusters.createCluster({ cluster: { name: 'c2' } }))).code).toBe(
      Code.ALREADY_EXISTS,
    );
    const prod = await clusters.listClusters({ selector: { env: 'prod' } });
    expect(prod.clusters.map((c) => c.name)).toEqual(['c1']);
    expect((await clusters.listClusters({})).clusters.map((c) => c.name)).toEqual(['c1', 'c2']);
  });

  it('manages assignments with defaults, updates and validation against the tenant', async () => {
    const { assignments } = t!.client;
    const created = await assignments.createAssignment({
      assignment: {
        tenant: 'team-a',
        name: 'web',
        repo: 'app',
        path: './deploy/',
        selector: { env: 'prod' },
      },
    });
    expect(created).toMatchObject({
      tenant: 'team-a',
      name: 'web',
      repo: 'app',
      path: 'deploy',
      selector: { env: 'prod' },
      targetNamespace: 'team-a',
      renderer: 'auto',
      prune: false,
      suspend: false,
      matchedClusters: 1, // c1 (env=prod)
    });
    // explicit cluster names must exist; a selector may match nothing yet, and the answer says so
    const unknown = await grpcError(
      assignments.createAssignment({
        assignment: { tenant: 'team-a', name: 'x', repo: 'app', clusters: ['c1', 'edge-8', 'edge-9'] },
      }),
    );
    expect([unknown.code, unknown.details]).toEqual([Code.NOT_FOUND, 'clusters "edge-8, edge-9" not found']);
    const none = await assignments.createAssignment({
      assignment: { tenant: 'team-a', name: 'later', repo: 'app', selector: { env: 'staging' } },
    });
    expect(none.matchedClusters).toBe(0);
    await assignments.deleteAssignment({ tenant: 'team-a', name: 'later' });
    const bad = await grpcError(
      assignments.createAssignment({
        assignment: { tenant: 'team-a', name: 'x', repo: 'app', path: '../etc', clusters: ['c1'] },
      }),
    );
    expect([bad.code, bad.details]).toEqual([
      Code.INVALID_ARGUMENT,
      'assignment.path: must not contain ".."',
    ]);
    const ns = await grpcError(
      assignments.createAssignment({
        assignment: { tenant: 'team-a', name: 'x', repo: 'app', targetNamespace: 'kube-system' },
      }),
    );
    expect([ns.code, ns.details]).toEqual([
      Code.INVALID_ARGUMENT,
      `assignment.target_namespace: "kube-system" is not one of tenant "team-a"'s namespaces (team-a, team-a-2)`,
    ]);
    const updated = await assignments.updateAssignment({
      assignment: { ...created, targetNamespace: 'team-a-2', suspend: true, renderer: 'plain' },
    });
    expect(updated).toMatchObject({ targetNamespace: 'team-a-2', suspend: true, renderer: 'plain' });
    expect(updated.createdAtMs).toBe(created.createdAtMs);
    expect(await assignments.getAssignment({ tenant: 'team-a', name: 'web' })).toEqual(updated);
    const missing = await grpcError(
      assignments.updateAssignment({ assignment: { ...created, name: 'other' } }),
    );
    expect(missing.code).toBe(Code.NOT_FOUND);
  });

  it('stores renderers and helm options and publishes them in the desired set; refuses hostile ones', async () => {
    const { assignments } = t!.client;
    const bus = await busProbe(nats!.url);
    try {
      const chartOf = async (generationAbove: number) =>
        eventually(async () => {
          const d = await bus.desired('c1');
          return d && d.set.generation > generationAbove
            ? { generation: d.set.generation, chart: d.set.assignments.find((a) => a.name === 'chart') }
            : undefined;
        });
      const before = (await bus.desired('c1'))?.set.generation ?? 0;
      const created = await assignments.createAssignment({
        assignment: {
          tenant: 'team-a',
          name: 'chart',
          repo: 'app',
          path: 'charts/web',
          clusters: ['c1'],
          renderer: 'helm',
          helm: {
            releaseName: 'web-prod',
            valuesFiles: ['./values/prod.yaml', 'values.yaml'],
            set: ['image.tag=1.2.3', 'podAnnotations.prometheus\\.io/scrape=true'],
          },
        },
      });
      const helm = {
        releaseName: 'web-prod',
        valuesFiles: ['values/prod.yaml', 'values.yaml'],
        set: ['image.tag=1.2.3', 'podAnnotations.prometheus\\.io/scrape=true'],
      };
      expect(created).toMatchObject({ renderer: 'helm', helm });
      expect(await assignments.getAssignment({ tenant: 'team-a', name: 'chart' })).toEqual(created);
      const listed = (await assignments.listAssignments({ tenant: 'team-a' })).assignments;
      expect(listed.find((a) => a.name === 'chart')).toEqual(created);
      // an assignment without helm options has none, here and on the bus
      expect(listed.find((a) => a.name === 'web')?.helm).toBeUndefined();

      const first = await chartOf(before);
      expect(first.chart).toMatchObject({ renderer: 'helm', helm, path: 'charts/web' });
      expect((await bus.desired('c1'))!.set.assignments.find((a) => a.name === 'web')?.helm).toBeUndefined();

      for (const renderer of ['kustomize', 'plain']) {
        const r = await assignments.updateAssignment({
          assignment: { ...created, renderer, helm: undefined },
        });
        expect(r).toMatchObject({ renderer });
        expect(r.helm).toBeUndefined();
      }
      const auto = await assignments.updateAssignment({
        assignment: {
          ...created,
          renderer: 'auto',
          helm: { releaseName: '', valuesFiles: [], set: ['a=b'] },
        },
      });
      expect(auto).toMatchObject({
        renderer: 'auto',
        helm: { releaseName: '', valuesFiles: [], set: ['a=b'] },
      });
      const later = await eventually(async () => {
        const c = await chartOf(first.generation);
        return c.chart?.renderer === 'auto' ? c : undefined;
      });
      expect(later.chart?.helm).toEqual({ releaseName: '', valuesFiles: [], set: ['a=b'] });

      // hostile options: a clear error naming the field, nothing stored, nothing published
      const published = (await bus.desired('c1'))!.set.generation;
      const attempt = async (fields: Record<string, unknown>) => {
        const err = await grpcError(
          assignments.createAssignment({
            assignment: {
              tenant: 'team-a',
              name: 'evil',
              repo: 'app',
              clusters: ['c1'],
              renderer: 'helm',
              ...fields,
            },
          }),
        );
        return [err.code, err.details];
      };
      const helmOf = (h: Record<string, unknown>) => ({
        helm: { releaseName: '', valuesFiles: [], set: [], ...h },
      });
      expect(await attempt(helmOf({ valuesFiles: ['../../../etc/passwd'] }))).toEqual([
        Code.INVALID_ARGUMENT,
        'assignment.helm.values_files[0]: must not contain ".."',
      ]);
      expect(await attempt(helmOf({ valuesFiles: ['/etc/passwd'] }))).toEqual([
        Code.INVALID_ARGUMENT,
        'assignment.helm.values_files[0]: must be relative to the repo root (no leading "/")',
      ]);
      expect(await attempt(helmOf({ valuesFiles: ['https://evil.example/values.yaml'] }))).toEqual([
        Code.INVALID_ARGUMENT,
        'assignment.helm.values_files[0]: "https://evil.example/values.yaml": must be a file inside the chart directory, not a URL (no \':\')',
      ]);
      expect(await attempt(helmOf({ set: ['a=b', 'x=1\n--post-renderer=/bin/sh'] }))).toEqual([
        Code.INVALID_ARGUMENT,
        'assignment.helm.set[1]: must not contain control characters (line breaks included)',
      ]);
      expect(await attempt(helmOf({ set: ['--set-file=secret=/etc/shadow'] }))).toEqual([
        Code.INVALID_ARGUMENT,
        'assignment.helm.set[0]: key "--set-file" is not a helm value path (e.g. "image.tag", "ingress.hosts[0].host", "podAnnotations.prometheus\\.io/scrape")',
      ]);
      expect(await attempt(helmOf({ set: Array(65).fill('a=b') }))).toEqual([
        Code.INVALID_ARGUMENT,
        'assignment.helm.set: 65 entries (at most 64): put the values in a values file',
      ]);
      expect(await attempt(helmOf({ releaseName: 'r'.repeat(54) }))).toEqual([
        Code.INVALID_ARGUMENT,
        `assignment.helm.release_name: "${'r'.repeat(54)}" is not a valid helm release name: use lowercase letters, digits and '-', starting and ending with a letter or digit, at most 53 characters`,
      ]);
      expect(await attempt({ renderer: 'plain', ...helmOf({ releaseName: 'x' }) })).toEqual([
        Code.INVALID_ARGUMENT,
        'assignment.helm: helm options are for the helm renderer, not "plain": use renderer "helm" (or "auto" for a chart)',
      ]);
      expect(await attempt({ renderer: 'jsonnet' })).toEqual([
        Code.INVALID_ARGUMENT,
        'assignment.renderer: "jsonnet" is not a renderer (use "auto", "plain", "kustomize", "helm")',
      ]);
      expect((await grpcError(assignments.getAssignment({ tenant: 'team-a', name: 'evil' }))).code).toBe(
        Code.NOT_FOUND,
      );
      expect((await bus.desired('c1'))!.set.generation).toBe(published);
    } finally {
      await assignments.deleteAssignment({ tenant: 'team-a', name: 'chart' }).catch(() => undefined);
      await bus.close();
    }
  });

  it('stores drift options and force and publishes them; refuses hostile ignore rules', async () => {
    const { assignments } = t!.client;
    const bus = await busProbe(nats!.url);
    try {
      const before = (await bus.desired('c1'))?.set.generation ?? 0;
      const drift = { mode: 'report', ignore: ['apps/Deployment:/spec/replicas', 'ConfigMap:/data/a~1b'] };
      const created = await assignments.createAssignment({
        assignment: { tenant: 'team-a', name: 'drifty', repo: 'app', clusters: ['c1'], drift, force: true },
      });
      expect(created).toMatchObject({ drift, force: true });
      expect(await assignments.getAssignment({ tenant: 'team-a', name: 'drifty' })).toEqual(created);
      const published = await eventually(async () => {
        const d = await bus.desired('c1');
        return d && d.set.generation > before
          ? d.set.assignments.find((a) => a.name === 'drifty')
          : undefined;
      });
      expect(published).toMatchObject({ drift, force: true });
      // the defaults are stored and published as none
      const plain = await assignments.updateAssignment({
        assignment: { ...created, drift: { mode: 'correct', ignore: [] }, force: false },
      });
      expect(plain.drift).toBeUndefined();
      expect(plain.force).toBe(false);

      const generation = (await bus.desired('c1'))!.set.generation;
      const attempt = async (d: { mode: string; ignore: string[] }) => {
        const err = await grpcError(
          assignments.createAssignment({
            assignment: { tenant: 'team-a', name: 'evil', repo: 'app', clusters: ['c1'], drift: d },
          }),
        );
        return [err.code, err.details];
      };
      expect(await attempt({ mode: 'fight', ignore: [] })).toEqual([
        Code.INVALID_ARGUMENT,
        'assignment.drift.mode: "fight" is not a drift mode: use "correct" (re-apply at once) or "report" (show it in status, write nothing)',
      ]);
      expect(await attempt({ mode: '', ignore: ['Deployment/spec/replicas'] })).toEqual([
        Code.INVALID_ARGUMENT,
        'assignment.drift.ignore[0]: "Deployment/spec/replicas" has no \':\' between the kind and the pointer: write KIND:/json/pointer or GROUP/KIND:/json/pointer, e.g. "apps/Deployment:/spec/replicas"',
      ]);
      expect(await attempt({ mode: '', ignore: ['Deployment:spec.replicas'] })).toEqual([
        Code.INVALID_ARGUMENT,
        'assignment.drift.ignore[0]: "spec.replicas" is not a JSON pointer to a field (it starts with \'/\', as "/spec/replicas"): write KIND:/json/pointer or GROUP/KIND:/json/pointer, e.g. "apps/Deployment:/spec/replicas"',
      ]);
      expect(
        await attempt({ mode: '', ignore: ['Deployment:/metadata/labels/gitfleet.dev~1tenant'] }),
      ).toEqual([
        Code.INVALID_ARGUMENT,
        'assignment.drift.ignore[0]: "/metadata/labels/gitfleet.dev~1tenant" says which object this is or that gitfleet owns it, and cannot be ignored: name a field such as "/spec/replicas"',
      ]);
      expect(await attempt({ mode: '', ignore: ['Deploy ment:/spec\n'] })).toEqual([
        Code.INVALID_ARGUMENT,
        'assignment.drift.ignore[0]: must not contain control characters',
      ]);
      expect((await grpcError(assignments.getAssignment({ tenant: 'team-a', name: 'evil' }))).code).toBe(
        Code.NOT_FOUND,
      );
      expect((await bus.desired('c1'))!.set.generation).toBe(generation);
    } finally {
      await assignments.deleteAssignment({ tenant: 'team-a', name: 'drifty' }).catch(() => undefined);
      await bus.close();
    }
  });

  it('stores health options and publishes them in the desired set; refuses hostile ones', async () => {
    const { assignments } = t!.client;
    const bus = await busProbe(nats!.url);
    try {
      const before = (await bus.desired('c1'))?.set.generation ?? 0;
      const health = {
        wait: true,
        checks: ['Widget.example.com/team-a/w1'],
        timeoutSeconds: 120,
        exprs: [
          {
            apiVersion: 'example.com/v1',
            kind: 'Widget',
            current: 'status.phase == "Ready"',
            inProgress: '',
            failed: 'status.phase == "Failed"',
          },
        ],
      };
      const base = { tenant: 'team-a', repo: 'app', clusters: ['c1'] };
      const created = await assignments.createAssignment({
        assignment: { ...base, name: 'healthy', health },
      });
      expect(created.health).toEqual(health);
      expect((await assignments.getAssignment({ tenant: 'team-a', name: 'healthy' })).health).toEqual(health);
      const desired = await eventually(async () => {
        const d = await bus.desired('c1');
        return d && d.set.generation > before
          ? d.set.assignments.find((a) => a.name === 'healthy')
          : undefined;
      });
      expect(desired.health).toEqual(health);

      const published = (await bus.desired('c1'))!.set.generation;
      const attempt = async (h: Record<string, unknown>) => {
        const err = await grpcError(
          assignments.createAssignment({
            assignment: {
              ...base,
              name: 'evil',
              health: { wait: true, checks: [], timeoutSeconds: 0, exprs: [], ...h },
            },
          }),
        );
        return [err.code, err.details];
      };
      const expr = (e: Record<string, string>) => ({
        exprs: [
          { apiVersion: 'example.com/v1', kind: 'Widget', current: 'true', inProgress: '', failed: '', ...e },
        ],
      });
      expect(await attempt(expr({ current: 'status.phase == ' }))).toEqual([
        Code.INVALID_ARGUMENT,
        'assignment.health.exprs[0].current: "status.phase == " is not a valid CEL expression: Unexpected token: EOF',
      ]);
      expect(await attempt(expr({ failed: '"x" + "y"' }))).toEqual([
        Code.INVALID_ARGUMENT,
        'assignment.health.exprs[0].failed: "\\"x\\" + \\"y\\"" gives a string, not a bool',
      ]);
      const [code, details] = await attempt(expr({ current: `${'['.repeat(5000)}${']'.repeat(5000)}` }));
      expect(code).toBe(Code.INVALID_ARGUMENT);
      expect(details).toMatch(/^assignment\.health\.exprs\[0\]\.current: .* is longer than 2048 characters$/);
      expect(await attempt({ checks: ['../../secrets'] })).toEqual([
        Code.INVALID_ARGUMENT,
        'assignment.health.checks[0]: "../../secrets": ".." is not a kind (PascalCase, e.g. Deployment); use Kind/namespace/name, or Kind/name for a cluster-scoped object; add the group after the kind (Widget.example.com/ns/name) for kinds outside the core, apps and batch groups that the assignment does not apply',
      ]);
      expect(await attempt({ wait: false, timeoutSeconds: 30 })).toEqual([
        Code.INVALID_ARGUMENT,
        'assignment.health.wait: a timeout or health expressions are given but nothing is waited for: set wait (--wait) or name objects (--health-check)',
      ]);
      expect((await grpcError(assignments.getAssignment({ tenant: 'team-a', name: 'evil' }))).code).toBe(
        Code.NOT_FOUND,
      );
      expect((await bus.desired('c1'))!.set.generation).toBe(published);
    } finally {
      await assignments.deleteAssignment({ tenant: 'team-a', name: 'healthy' }).catch(() => undefined);
      await bus.close();
    }
  });

  it('refuses to delete what is still in use (FAILED_PRECONDITION)', async () => {
    const { tenants, repos, assignments } = t!.client;
    const tenantErr = await grpcError(tenants.deleteTenant({ name: 'team-a' }));
    expect([tenantErr.code, tenantErr.details]).toEqual([
      Code.FAILED_PRECONDITION,
      'tenant "team-a" still owns assignments web and repos app: delete them first',
    ]);
    const repoErr = await grpcError(repos.deleteRepo({ tenant: 'team-a', name: 'app' }));
    expect([repoErr.code, repoErr.details]).toEqual([
      Code.FAILED_PRECONDITION,
      'repo "team-a/app" is used by assignments web: delete them first',
    ]);
    await assignments.deleteAssignment({ tenant: 'team-a', name: 'web' });
    await repos.deleteRepo({ tenant: 'team-a', name: 'app' });
    await tenants.deleteTenant({ name: 'team-a' });
    expect((await tenants.listTenants({})).tenants).toEqual([]);
  });

  it('deletes clusters', async () => {
    const { clusters } = t!.client;
    await clusters.deleteCluster({ name: 'c2' });
    expect((await grpcError(clusters.getCluster({ name: 'c2' }))).code).toBe(Code.NOT_FOUND);
  });
});
