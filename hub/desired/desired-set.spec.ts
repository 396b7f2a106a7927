import { describe, expect, it } from '@jest/globals';
import { DesiredSet, GitCredentials } from '../../proto/index.js';
import {
  buildSnapshot,
  computeDesiredSet,
  desiredSetSize,
  desiredSetSizer,
  desiredSetUpperBound,
  hashDesiredSet,
} from './desired-set.js';
import { assignment, repo, SHA1, SHA2, tenant } from '../../test/fixtures/hub-records.js';

const prod = { name: 'prod-1', labels: { env: 'prod' } };
const dev = { name: 'dev-1', labels: { env: 'dev' } };

describe('computeDesiredSet', () => {
  const snapshot = buildSnapshot(
    [tenant('team-b', ['b', 'b2']), tenant('team-a')],
    [
      repo('team-a', 'app', {
        credentials: GitCredentials.fromPartial({ username: 'bot', password: 'pw' }),
        hasCredentials: true,
      }),
      repo('team-b', 'app', { branch: '', tag: 'v1', revision: `v1@sha1:${SHA2}` }),
      repo('team-b', 'new', { revision: '', resolveError: 'repo "team-b/new": boom' }),
    ],
    [
      assignment('team-b', 'web', { clusters: ['prod-1'], suspend: true, targetNamespace: 'b2' }),
      assignment('team-a', 'web', { selector: { env: 'prod' } }),
      assignment('team-a', 'only-dev', { clusters: ['dev-1'] }),
      assignment('team-b', 'pending', { repo: 'new', selector: { env: 'prod' } }),
    ],
  );

  it('includes the assignments that select the cluster, sorted, with their sources and tenants', () => {
    const { set, unresolved } = computeDesiredSet(prod, snapshot);
    expect(set.cluster).toBe('prod-1');
    expect(set.generation).toBe(0);
    expect(set.assignments.map((a) => `${a.tenant}/${a.name}`)).toEqual(['team-a/web', 'team-b/web']);
    expect(set.assignments[0]).toEqual({
      tenant: 'team-a',
      name: 'web',
      repo: 'app',
      source: {
        type: 'git',
        url: 'https://git.example.com/team-a/app.git',
        revision: `main@sha1:${SHA1}`,
        commit: SHA1,
        credentials: GitCredentials.fromPartial({ username: 'bot', password: 'pw' }),
        digest: '',
      },
      path: 'deploy',
      targetNamespace: 'team-a',
      prune: true,
      suspend: false,
      renderer: 'auto',
      decryptionSecret: '',
      dependsOn: [],
      retryIntervalSeconds: 0,
      drift: undefined,
      force: false,
    });
    expect(set.assignments[1]).toMatchObject({
      suspend: true,
      targetNamespace: 'b2',
      source: { revision: `v1@sha1:${SHA2}`, commit: SHA2, credentials: undefined },
    });
    expect(set.tenants).toEqual([
      {
        name: 'team-a',
        namespaces: ['team-a'],
        serviceAccount: 'gitfleet-reconciler',
        clusterRole: 'admin',
        allowedClusterKinds: [],
      },
      {
        name: 'team-b',
        namespaces: ['b', 'b2'],
        serviceAccount: 'gitfleet-reconciler',
        clusterRole: 'admin',
        allowedClusterKinds: [],
      },
    ]);
    expect(unresolved.map((u) => [u.assignment.name, u.resolveError])).toEqual([
      ['pending', 'repo "team-b/new": boom'],
    ]);
  });

  it('projects helm options, and leaves them undefined (the set unchanged) when none are set', () => {
    const helm = { releaseName: 'web-prod', valuesFiles: ['values-prod.yaml'], set: ['image.tag=1.2.3'] };
    const withHelm = buildSnapshot(
      [tenant('team-a')],
      [repo('team-a', 'app')],
      [assignment('team-a', 'web', { selector: { env: 'prod' }, renderer: 'helm', helm })],
    );
    const without = buildSnapshot(
      [tenant('team-a')],
      [repo('team-a', 'app')],
      [assignment('team-a', 'web', { selector: { env: 'prod' }, renderer: 'helm' })],
    );
    expect(computeDesiredSet(prod, withHelm).set.assignments[0]).toMatchObject({ renderer: 'helm', helm });
    const plain = computeDesiredSet(prod, without).set;
    expect(plain.assignments[0].helm).toBeUndefined();
    // the encoding of an assignment without helm options has no helm field at all
    const decoded = DesiredSet.decode(DesiredSet.encode(plain).finish());
    expect(decoded.assignments[0].helm).toBeUndefined();
    expect(hashDesiredSet(plain)).not.toBe(hashDesiredSet(computeDesiredSet(prod, withHelm).set));
  });

  it("projects the decryption secret's name (SOPS): only the name, the keys stay in the cluster", () => {
    const snap = buildSnapshot(
      [tenant('team-a')],
      [repo('team-a', 'app')],
      [assignment('team-a', 'web', { selector: { env: 'prod' }, decryptionSecret: 'sops-age' })],
    );
    const set = computeDesiredSet(prod, snap).set;
    expect(set.assignments[0].decryptionSecret).toBe('sops-age');
    expect(hashDesiredSet(set)).not.toBe(hashDesiredSet(computeDesiredSet(prod, snapshot).set));
  });

  it('projects depends_on and the retry interval (the agent orders and backs off by them)', () => {
    const snap = buildSnapshot(
      [tenant('team-a')],
      [repo('team-a', 'app')],
      [
        assignment('team-a', 'db', { clusters: ['prod-1'] }),
        assignment('team-a', 'web', { clusters: ['prod-1'], dependsOn: ['db'], retryIntervalSeconds: 30 }),
      ],
    );
    const web = computeDesiredSet(prod, snap).set.assignments.find((a) => a.name === 'web');
    expect(web).toMatchObject({ dependsOn: ['db'], retryIntervalSeconds: 30 });
  });

  it('leaves out tenants without a published assignment', () => {
    const { set } = computeDesiredSet(dev, snapshot);
    expect(set.assignments.map((a) => a.name)).toEqual(['only-dev']);
    expect(set.tenants.map((t) => t.name)).toEqual(['team-a']);
  });

  it('is empty for a cluster nothing selects', () => {
    const { set, unresolved } = computeDesiredSet({ name: 'lonely', labels: {} }, snapshot);
    expect(set.assignments).toEqual([]);
    expect(set.tenants).toEqual([]);
    expect(unresolved).toEqual([]);
  });
});

describe('hashDesiredSet', () => {
  const set: DesiredSet = {
    cluster: 'c',
    generation: 3,
    tenants: [
      { name: 't', namespaces: ['t'], serviceAccount: 's', clusterRole: 'admin', allowedClusterKinds: [] },
    ],
    assignments: [],
    publishedAtMs: 123,
    maintenanceWindows: [],
  };

  it('ignores generation and publishedAtMs', () => {
    expect(hashDesiredSet(set)).toBe(hashDesiredSet({ ...set, generation: 9, publishedAtMs: 0 }));
  });

  it('changes with the content', () => {
    expect(hashDesiredSet(set)).not.toBe(hashDesiredSet({ ...set, tenants: [] }));
  });
});

describe('desiredSetSizer', () => {
  it('gives every cluster the size of its own encoded set, encoding one set per selection', () => {
    const snap = buildSnapshot(
      [tenant('team-a')],
      [repo('team-a', 'apps')],
      [
        assignment('team-a', 'web', { repo: 'apps', selector: { env: 'prod' } }),
        assignment('team-a', 'db', { repo: 'apps', clusters: ['c', 'a-much-longer-cluster-name'] }),
      ],
    );
    const size = desiredSetSizer(snap);
    const clusters: Array<{ name: string; labels: Record<string, string> }> = [
      { name: 'c', labels: { env: 'prod' } },
      { name: 'prod-eu-west-1', labels: { env: 'prod' } },
      { name: 'a-much-longer-cluster-name', labels: { env: 'prod' } },
      { name: 'x', labels: {} },
    ];
    for (const cluster of clusters) {
      expect(size(cluster)).toBe(desiredSetSize(computeDesiredSet(cluster, snap).set));
      expect(size(cluster)).toBeLessThanOrEqual(desiredSetUpperBound(snap));
    }
  });
});

describe('substitution', () => {
  const withVars = (vars: Record<string, string>) => ({ ...tenant('team-a'), vars });
  const substituting = (vars: Record<string, string>, strict = false) =>
    assignment('team-a', 'web', {
      repo: 'apps',
      selector: { env: 'prod' },
      substitute: { enabled: true, vars, strict },
    });
  const cluster = {
    name: 'prod-eu-1',
    labels: { env: 'prod', 'topology.kubernetes.io/region': 'eu-west-1', 'team-x': 'x', tier: 'gold' },
  };

  it('merges cluster_name and cluster_label_*, then the tenant, then the assignment (later wins)', () => {
    const snap = buildSnapshot(
      [withVars({ region_default: 'eu', tier: 'tenant', cluster_label_tier: 'from-tenant' })],
      [repo('team-a', 'apps')],
      [substituting({ tier: 'assignment', image_tag: 'v1' }, true)],
    );
    const [a] = computeDesiredSet(cluster, snap).set.assignments;
    expect(a.substitute).toEqual({
      enabled: true,
      strict: true,
      vars: {
        cluster_label_env: 'prod',
        cluster_label_team_x: 'x',
        cluster_label_tier: 'from-tenant',
        cluster_label_topology_kubernetes_io_region: 'eu-west-1',
        cluster_name: 'prod-eu-1',
        image_tag: 'v1',
        region_default: 'eu',
        tier: 'assignment',
      },
    });
    // sorted names: the encoding (and the hash) does not depend on the order of the records
    expect(Object.keys(a.substitute!.vars)).toEqual([...Object.keys(a.substitute!.vars)].sort());
  });

  it('leaves substitute undefined when the assignment does not substitute (sets do not change)', () => {
    const snap = buildSnapshot(
      [withVars({ a: '1' })],
      [repo('team-a', 'apps')],
      [assignment('team-a', 'web', { repo: 'apps', selector: { env: 'prod' } })],
    );
    const { set } = computeDesiredSet(cluster, snap);
    expect(set.assignments[0].substitute).toBeUndefined();
    // a label change alone does not change a set that does not substitute
    expect(hashDesiredSet(set)).toBe(
      hashDesiredSet(computeDesiredSet({ ...cluster, labels: { env: 'prod' } }, snap).set),
    );
  });

  it('changes the set when a label alone changes (no selector involved)', () => {
    const snap = buildSnapshot([withVars({})], [repo('team-a', 'apps')], [substituting({})]);
    const before = computeDesiredSet(cluster, snap).set;
    const after = computeDesiredSet({ ...cluster, labels: { ...cluster.labels, tier: 'silver' } }, snap).set;
    expect(after.assignments[0].substitute!.vars.cluster_label_tier).toBe('silver');
    expect(hashDesiredSet(after)).not.toBe(hashDesiredSet(before));
  });

  it('sizes each cluster of a substituting selection exactly; the upper bound defers to the clusters', () => {
    const snap = buildSnapshot([withVars({ x: 'y' })], [repo('team-a', 'apps')], [substituting({ a: 'b' })]);
    const size = desiredSetSizer(snap);
    for (const c of [cluster, { name: 'p', labels: { env: 'prod', long: 'v'.repeat(63) } }]) {
      expect(size(c)).toBe(desiredSetSize(computeDesiredSet(c, snap).set));
    }
    expect(desiredSetUpperBound(snap)).toBe(Number.POSITIVE_INFINITY);
  });
  const group = (name: string, vars: Record<string, string>, clusters: string[] = ['prod-eu-1']) => ({
    name,
    selector: { matchLabels: {}, matchExpressions: [] },
    clusters,
    vars,
    createdAtMs: 1,
    updatedAtMs: 1,
    matchedClusters: 0,
  });

  it('merges built-ins < tenant < groups (name order) < cluster < assignment < per-group overrides (name order)', () => {
    const level = (v: string) => Object.fromEntries(['k1', 'k2', 'k3', 'k4', 'k5'].map((k) => [k, v]));
    const snap = buildSnapshot(
      [withVars({ ...level('tenant'), cluster_name: 'tenant-overrides-builtin' })],
      [repo('team-a', 'apps')],
      [
        assignment('team-a', 'web', {
          repo: 'apps',
          groups: ['b'],
          substitute: { enabled: true, vars: { k4: 'assignment', k5: 'assignment' }, strict: false },
          groupVars: [
            { group: 'z', vars: { kz: 'z' } }, // the cluster is not in z
            { group: 'b', vars: { k5: 'override-b', ko: 'b' } },
            { group: 'a', vars: { ko: 'a' } },
          ],
        }),
      ],
      // given out of order: the snapshot sorts them by name
      [
        group('b', { k2: 'group-b', k3: 'group-b', kg: 'b' }),
        group('a', { k2: 'group-a', kg: 'a' }),
        group('z', { k1: 'z' }, []),
      ],
    );
    const c = { ...cluster, vars: { k3: 'cluster', k4: 'cluster', k5: 'cluster' } };
    const [a] = computeDesiredSet(c, snap).set.assignments;
    expect(a.substitute!.vars).toMatchObject({
      cluster_name: 'tenant-overrides-builtin',
      k1: 'tenant',
      k2: 'group-b',
      k3: 'cluster',
      k4: 'assignment',
      k5: 'override-b',
      kg: 'b',
      ko: 'b',
    });
    expect(a.substitute!.vars.kz).toBeUndefined();
  });

  it('selects by group and publishes the cluster windows; cluster vars do not touch sets that do not substitute', () => {
    const snap = buildSnapshot(
      [withVars({})],
      [repo('team-a', 'apps')],
      [assignment('team-a', 'web', { repo: 'apps', groups: ['g'] })],
      [group('g', { x: '1' })],
    );
    const c = { ...cluster, maintenanceWindows: ['Sat 02:00-04:00 UTC'] };
    const { set } = computeDesiredSet(c, snap);
    expect(set.assignments.map((a) => a.name)).toEqual(['web']);
    expect(set.maintenanceWindows).toEqual(['Sat 02:00-04:00 UTC']);
    expect(hashDesiredSet(computeDesiredSet({ ...c, vars: { a: 'b' } }, snap).set)).toBe(hashDesiredSet(set));
    expect(computeDesiredSet({ ...c, name: 'other' }, snap).set.assignments).toEqual([]);
    // the sizer sees the group's selection
    expect(desiredSetSizer(snap)(c)).toBe(desiredSetSize(set));
  });

  it('leaves out an assignment whose merged variables pass MAX_MERGED_VARS, saying why', () => {
    const many = (prefix: string) =>
      Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`${prefix}${i}`, 'v']));
    const groups = Array.from({ length: 10 }, (_, i) => group(`g${i}`, many(`g${i}_`)));
    const snap = buildSnapshot([withVars({})], [repo('team-a', 'apps')], [substituting({})], groups);
    const computed = computeDesiredSet({ ...cluster, vars: many('c') }, snap);
    expect(computed.set.assignments).toEqual([]);
    expect(computed.unresolved[0].resolveError).toMatch(
      /substitution variables on cluster "prod-eu-1" \(at most 1000/,
    );
  });
});
