// Targeting through the real hub, against a real nats-server and git: kubectl's selector syntax
// stored as match labels plus expressions and published to the selected clusters' desired sets;
// relabeling gains and loses an assignment at once; cluster groups by selector and by name;
// cluster, group and per-group variables merged with the documented precedence; maintenance
// windows stored and published; hostile input refused with the field named and nothing changed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { status } from '@grpc/grpc-js';
import { parseLabelSelector } from '../../../proto/index.js';
import { createHubClient, type HubClient } from '../../../cli/client/hub-client.js';
import { startGit, startNats, type GitEnv, type GitRepo, type NatsEnv } from '../../env/index.js';
import {
  busProbe,
  eventually,
  grpcError,
  startTestHub,
  tempDir,
  type BusProbe,
  type TestHub,
} from './harness.js';

describe('targeting', () => {
  let nats: NatsEnv | undefined;
  let git: GitEnv | undefined;
  let bus: BusProbe | undefined;
  let t: TestHub | undefined;
  let repo: GitRepo;
  const clients: HubClient[] = [];
  const tmp = tempDir('gitfleet-hub-targeting-');

  const as = (token: string): HubClient => {
    const c = createHubClient(t!.hub.address, { deadlineMs: 10_000, token });
    clients.push(c);
    return c;
  };

  /** kubectl's selector text as the API carries it on an assignment. */
  const selector = (text: string) => {
    const sel = parseLabelSelector(text);
    return { selector: sel.matchLabels, matchExpressions: sel.matchExpressions };
  };

  /** The names of the assignments in a cluster's desired set on the bus, once `check` holds. */
  const runs = (cluster: string, check: (names: string[]) => boolean) =>
    eventually(async () => {
      const d = await bus!.desired(cluster);
      const names = (d?.set.assignments ?? []).map((a) => a.name).sort();
      return d && check(names) ? names : undefined;
    });

  beforeAll(async () => {
    nats = await startNats();
    git = await startGit();
    repo = await git.createRepo('app', { 'deploy/cm.yaml': 'kind: ConfigMap\n' });
    t = await startTestHub({ natsUrl: nats.url, db: `${tmp.dir}/hub.db` });
    bus = await busProbe(nats.url);
    const { tenants, repos, clusters } = t.client;
    await tenants.createTenant({
      tenant: {
        name: 'team-a',
        namespaces: ['team-a'],
        vars: { k1: 'tenant', k2: 'tenant', k3: 'tenant', k4: 'tenant', k5: 'tenant' },
      },
    });
    await repos.createRepo({ repo: { tenant: 'team-a', name: 'app', url: repo.url } });
    await eventually(
      async () => (await repos.getRepo({ tenant: 'team-a', name: 'app' })).revision || undefined,
    );
    for (const [name, labels] of [
      ['eu-1', { env: 'prod', region: 'eu' }],
      ['eu-2', { env: 'staging', region: 'eu', canary: 'true' }],
      ['us-1', { env: 'prod', region: 'us', tier: 'gold' }],
      ['dev-1', { env: 'dev' }],
    ] as const) {
      await clusters.createCluster({ cluster: { name, labels } });
    }
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await bus?.close();
    await t?.stop();
    await git?.stop();
    await nats?.destroy();
    tmp.remove();
  });

  it('stores a selector in kubectl syntax as labels plus expressions and publishes to what it matches', async () => {
    const created = await t!.client.assignments.createAssignment({
      assignment: {
        tenant: 'team-a',
        name: 'web',
        repo: 'app',
        path: 'deploy',
        ...selector('region=eu,env in (prod,staging),tier!=gold,!canary'),
      },
    });
    expect(created.selector).toEqual({ region: 'eu' });
    expect(created.matchExpressions).toEqual([
      { key: 'canary', operator: 'DoesNotExist', values: [] },
      { key: 'env', operator: 'In', values: ['prod', 'staging'] },
      { key: 'tier', operator: 'NotIn', values: ['gold'] },
    ]);
    expect(created.matchedClusters).toBe(1);
    await runs('eu-1', (n) => n.includes('web'));
    for (const other of ['eu-2', 'us-1', 'dev-1']) expect(await runs(other, () => true)).not.toContain('web');

    const listed = await t!.client.clusters.listClusters(selector('env in (prod,staging),!canary'));
    expect(listed.clusters.map((c) => c.name)).toEqual(['eu-1', 'us-1']);
  });

  it('gains and loses the assignment at once when a cluster gains or loses a label', async () => {
    const { clusters } = t!.client;
    // eu-2 loses its canary label: it gains web
    await clusters.updateCluster({ cluster: { name: 'eu-2', labels: { env: 'staging', region: 'eu' } } });
    await runs('eu-2', (n) => n.includes('web'));
    // eu-1 becomes dev: it loses web
    await clusters.updateCluster({
      cluster: { name: 'eu-1', labels: { env: 'dev', region: 'eu' } },
      fields: ['labels'],
    });
    await runs('eu-1', (n) => !n.includes('web'));
    await clusters.updateCluster({
      cluster: { name: 'eu-1', labels: { env: 'prod', region: 'eu' } },
      fields: ['labels'],
    });
    await runs('eu-1', (n) => n.includes('web'));
  });

  it('selects the clusters of groups by selector and by name, before and after a group changes', async () => {
    const { groups, assignments, clusters } = t!.client;
    const eu = await groups.createGroup({
      group: { name: 'eu', selector: { matchLabels: { region: 'eu' } } },
    });
    expect(eu.matchedClusters).toBe(2);
    await groups.createGroup({ group: { name: 'gold', clusters: ['us-1'] } });
    const svc = await assignments.createAssignment({
      assignment: { tenant: 'team-a', name: 'svc', repo: 'app', path: 'deploy', groups: ['gold'] },
    });
    expect(svc.groups).toEqual(['gold']);
    expect(svc.matchedClusters).toBe(1);
    await runs('us-1', (n) => n.includes('svc'));
    expect(await runs('dev-1', () => true)).not.toContain('svc');

    // dev-1 joins the group by name: it gains svc; leaves it: loses it
    await groups.updateGroup({ group: { name: 'gold', clusters: ['us-1', 'dev-1'] }, fields: ['clusters'] });
    await runs('dev-1', (n) => n.includes('svc'));
    const got = await groups.getGroup({ name: 'gold' });
    expect(got.members).toEqual(['dev-1', 'us-1']);
    expect(got.group?.matchedClusters).toBe(2);
    await groups.updateGroup({ group: { name: 'gold', clusters: ['us-1'] }, fields: ['clusters'] });
    await runs('dev-1', (n) => !n.includes('svc'));

    expect((await clusters.listClusters({ group: 'eu' })).clusters.map((c) => c.name)).toEqual([
      'eu-1',
      'eu-2',
    ]);
    expect((await groups.listGroups({})).groups.map((g) => [g.name, g.matchedClusters])).toEqual([
      ['eu', 2],
      ['gold', 1],
    ]);
  });

  it('merges tenant < group < cluster < assignment < per-group override variables into the substitution', async () => {
    const { groups, assignments, clusters } = t!.client;
    await groups.updateGroup({
      group: {
        name: 'eu',
        vars: { k2: 'group-eu', k3: 'group-eu', k4: 'group-eu', k5: 'group-eu', kg: 'group-eu' },
      },
      fields: ['vars'],
    });
    await groups.createGroup({ group: { name: 'eu2', clusters: ['eu-2'], vars: { kg: 'group-eu2' } } });
    await clusters.updateCluster({
      cluster: { name: 'eu-2', vars: { k3: 'cluster', k4: 'cluster', k5: 'cluster' } },
      fields: ['vars'],
    });
    await assignments.createAssignment({
      assignment: {
        tenant: 'team-a',
        name: 'vars',
        repo: 'app',
        path: 'deploy',
        groups: ['eu'],
        substitute: { enabled: true, vars: { k4: 'assignment', k5: 'assignment' } },
        groupVars: [
          { group: 'eu2', vars: { ko: 'eu2' } },
          { group: 'eu', vars: { k5: 'override-eu', ko: 'eu' } },
          { group: 'gold', vars: { k1: 'not-in-gold' } },
        ],
      },
    });
    const vars = (check: (v: Record<string, string>) => boolean) =>
      eventually(async () => {
        const d = await bus!.desired('eu-2');
        const v = d?.set.assignments.find((a) => a.name === 'vars')?.substitute?.vars;
        return v && check(v) ? v : undefined;
      });
    expect(await vars(() => true)).toMatchObject({
      cluster_name: 'eu-2',
      cluster_label_region: 'eu',
      k1: 'tenant',
      k2: 'group-eu',
      k3: 'cluster',
      k4: 'assignment',
      k5: 'override-eu',
      kg: 'group-eu2',
      ko: 'eu2',
    });
    // the labels stayed as they were (the mask named only vars)
    expect((await clusters.getCluster({ name: 'eu-2' })).labels).toEqual({ env: 'staging', region: 'eu' });

    // a change of the cluster's vars alone re-projects it
    await clusters.updateCluster({ cluster: { name: 'eu-2', vars: { k3: 'cluster-2' } }, fields: ['vars'] });
    expect((await vars((v) => v.k3 === 'cluster-2')).k4).toBe('assignment');
    // a change of a group's vars re-projects its clusters
    await groups.updateGroup({ group: { name: 'eu2', vars: { kg: 'group-eu2-b' } }, fields: ['vars'] });
    await vars((v) => v.kg === 'group-eu2-b');
    // eu-1 is not in eu2: its substitution has eu's kg and eu's override only
    const d1 = await eventually(async () => bus!.desired('eu-1'));
    expect(d1.set.assignments.find((a) => a.name === 'vars')?.substitute?.vars).toMatchObject({
      kg: 'group-eu',
      ko: 'eu',
      k3: 'group-eu',
    });
  });

  it('stores maintenance windows normalized and publishes them in the cluster desired set', async () => {
    const { clusters } = t!.client;
    const updated = await clusters.updateCluster({
      cluster: {
        name: 'us-1',
        maintenanceWindows: ['sat 02:00-04:00 UTC', 'Mon-Fri 22:00-06:00 Europe/Berlin'],
      },
      fields: ['maintenance_windows'],
    });
    expect(updated.maintenanceWindows).toEqual(['Sat 02:00-04:00 UTC', 'Mon-Fri 22:00-06:00 Europe/Berlin']);
    expect(updated.labels).toEqual({ env: 'prod', region: 'us', tier: 'gold' });
    await eventually(async () => {
      const d = await bus!.desired('us-1');
      return d?.set.maintenanceWindows.length === 2 ? d : undefined;
    });
    // an update without fields changes the labels only, as before masks existed
    await clusters.updateCluster({
      cluster: { name: 'us-1', labels: { env: 'prod', region: 'us', tier: 'gold' }, vars: { x: 'ignored' } },
    });
    const got = await clusters.getCluster({ name: 'us-1' });
    expect(got.vars).toEqual({});
    expect(got.maintenanceWindows).toHaveLength(2);
    // cleared
    await clusters.updateCluster({ cluster: { name: 'us-1' }, fields: ['maintenance_windows'] });
    await eventually(async () => {
      const d = await bus!.desired('us-1');
      return d?.set.maintenanceWindows.length === 0 ? d : undefined;
    });
  });

  it('refuses to delete a group an assignment names, naming the assignment', async () => {
    const { groups } = t!.client;
    const err = await grpcError(groups.deleteGroup({ name: 'gold' }));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toContain('team-a/svc');
    const eu2 = await grpcError(groups.deleteGroup({ name: 'eu2' }));
    expect(eu2.details).toContain('team-a/vars'); // named in group_vars only
    await groups.createGroup({ group: { name: 'spare', clusters: ['dev-1'] } });
    await groups.deleteGroup({ name: 'spare' });
    expect(await grpcError(groups.getGroup({ name: 'spare' }))).toMatchObject({ code: status.NOT_FOUND });
  });

  describe('hostile input', () => {
    const base = { tenant: 'team-a', repo: 'app', path: 'deploy' };

    it.each([
      [
        'an unknown operator',
        { matchExpressions: [{ key: 'env', operator: 'Like', values: ['x'] }] },
        /assignment\.match_expressions\[0\]\.operator: "Like" is not one of In, NotIn, Exists, DoesNotExist/,
      ],
      [
        '65 requirements',
        {
          matchExpressions: Array.from({ length: 65 }, (_, i) => ({
            key: `k${i}`,
            operator: 'Exists',
            values: [],
          })),
        },
        /at most 64 requirements/,
      ],
      ['a bad label key', { selector: { 'no spaces': 'x' } }, /assignment\.selector\["no spaces"\]/],
      [
        'a group name that is not a DNS label',
        { groups: ['EU_West'] },
        /assignment\.groups\[0\]: "EU_West" is not a valid name/,
      ],
      [
        'a bad variable name in group_vars',
        { groups: ['eu'], groupVars: [{ group: 'eu', vars: { 'a-b': 'x' } }] },
        /assignment\.group_vars\[0\]\.vars\["a-b"\]/,
      ],
      [
        'a huge variable value in group_vars',
        { groups: ['eu'], groupVars: [{ group: 'eu', vars: { big: 'x'.repeat(70_000) } }] },
        /70000 bytes \(at most 4096\)/,
      ],
    ])('refuses an assignment with %s, naming the field, storing nothing', async (_what, fields, message) => {
      const err = await grpcError(
        t!.client.assignments.createAssignment({ assignment: { ...base, name: 'bad', ...fields } }),
      );
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toMatch(message);
      expect(err.details).not.toContain('x'.repeat(100));
      expect(
        await grpcError(t!.client.assignments.getAssignment({ tenant: 'team-a', name: 'bad' })),
      ).toMatchObject({ code: status.NOT_FOUND });
    });

    it('refuses an unknown group by name, on create and update', async () => {
      const { assignments } = t!.client;
      const err = await grpcError(
        assignments.createAssignment({ assignment: { ...base, name: 'bad', groups: ['nope'] } }),
      );
      expect(err.code).toBe(status.NOT_FOUND);
      expect(err.details).toContain('group "nope');
      const upd = await grpcError(
        assignments.updateAssignment({
          assignment: { tenant: 'team-a', name: 'svc', groupVars: [{ group: 'ghost', vars: { a: '1' } }] },
          fields: ['group_vars'],
        }),
      );
      expect(upd.code).toBe(status.NOT_FOUND);
      expect(upd.details).toContain('ghost');
      expect((await assignments.getAssignment({ tenant: 'team-a', name: 'svc' })).groups).toEqual(['gold']);
    });

    it('refuses bad groups, cluster vars and windows, changing nothing', async () => {
      const { groups, clusters } = t!.client;
      const before = await clusters.getCluster({ name: 'eu-2' });
      for (const [call, message] of [
        [groups.createGroup({ group: { name: 'Bad_Name', clusters: ['eu-1'] } }), /group\.name: "Bad_Name"/],
        [
          groups.createGroup({ group: { name: 'empty' } }),
          /group\.selector: a group needs a selector or clusters/,
        ],
        [
          groups.createGroup({
            group: {
              name: 'badsel',
              selector: { matchLabels: {}, matchExpressions: [{ key: 'a', operator: 'Near', values: [] }] },
            },
          }),
          /group\.selector\.matchExpressions\[0\]\.operator/,
        ],
        [
          groups.createGroup({ group: { name: 'ghosts', clusters: ['no-such'] } }),
          /cluster "no-such" not found/,
        ],
        [
          groups.createGroup({ group: { name: 'vv', clusters: ['eu-1'], vars: { '1x': 'y' } } }),
          /group\.vars\["1x"\]/,
        ],
        [
          clusters.updateCluster({
            cluster: { name: 'eu-2', vars: { ok: 'x'.repeat(5000) } },
            fields: ['vars'],
          }),
          /cluster\.vars\["ok"\]: the value has 5000 bytes/,
        ],
        [
          clusters.updateCluster({
            cluster: { name: 'eu-2', maintenanceWindows: ['Caturday 02:00-04:00 UTC'] },
            fields: ['maintenance_windows'],
          }),
          /cluster\.maintenance_windows\[0\]/,
        ],
        [
          clusters.updateCluster({ cluster: { name: 'eu-2', agentVersion: 'x' }, fields: ['agent_version'] }),
          /fields\[0\]: "agent_version" is not a field that can be changed/,
        ],
      ] as const) {
        const err = await grpcError(call);
        expect([status.INVALID_ARGUMENT, status.NOT_FOUND]).toContain(err.code);
        expect(err.details).toMatch(message);
      }
      const after = await clusters.getCluster({ name: 'eu-2' });
      expect({ ...after, lastHeartbeatMs: 0, state: '' }).toEqual({
        ...before,
        lastHeartbeatMs: 0,
        state: '',
      });
      expect((await groups.listGroups({})).groups.map((g) => g.name)).toEqual(['eu', 'eu2', 'gold']);
    });

    it('refuses cluster vars that would make its desired set too large for the bus, storing nothing', async () => {
      const { assignments, clusters } = t!.client;
      for (const name of ['s1', 's2', 's3']) {
        await assignments.createAssignment({
          assignment: { ...base, name, clusters: ['dev-1'], substitute: { enabled: true } },
        });
      }
      // 100 variables of 4,000 bytes, repeated in each of the three substituting assignments: ~1.2 MB
      const vars = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`v${i}`, 'x'.repeat(4000)]));
      const err = await grpcError(
        clusters.updateCluster({ cluster: { name: 'dev-1', vars }, fields: ['vars'] }),
      );
      expect(err.code).toBe(status.FAILED_PRECONDITION);
      expect(err.details).toMatch(/desired set of cluster "dev-1" [\d,]+ bytes, over the bus's limit/);
      expect(err.details).not.toContain('xxxx');
      expect((await clusters.getCluster({ name: 'dev-1' })).vars).toEqual({});
      for (const name of ['s1', 's2', 's3']) await assignments.deleteAssignment({ tenant: 'team-a', name });
    });

    it('keeps groups and clusters to admin (and viewer reads); a tenant token may name groups only', async () => {
      const { tokens, groups, clusters } = t!.client;
      const tenant = as((await tokens.createToken({ role: 'tenant', tenant: 'team-a' })).secret);
      const viewer = as((await tokens.createToken({ role: 'viewer' })).secret);
      for (const call of [
        tenant.groups.createGroup({ group: { name: 'mine', clusters: ['eu-1'] } }),
        tenant.groups.updateGroup({ group: { name: 'eu', vars: { k1: 'tenant-hijack' } }, fields: ['vars'] }),
        tenant.groups.deleteGroup({ name: 'eu' }),
        tenant.groups.getGroup({ name: 'eu' }),
        tenant.groups.listGroups({}),
        tenant.clusters.listClusters({ group: 'eu' }),
        tenant.clusters.updateCluster({ cluster: { name: 'eu-1', vars: { k: 'v' } }, fields: ['vars'] }),
        tenant.clusters.createCluster({ cluster: { name: 'sneaky' } }),
        viewer.groups.createGroup({ group: { name: 'mine', clusters: ['eu-1'] } }),
        viewer.clusters.updateCluster({ cluster: { name: 'eu-1', vars: { k: 'v' } }, fields: ['vars'] }),
      ]) {
        const err = await grpcError(call);
        expect(err.code).toBe(status.PERMISSION_DENIED);
      }
      expect((await viewer.groups.getGroup({ name: 'eu' })).members).toEqual(['eu-1', 'eu-2']);
      expect((await groups.getGroup({ name: 'eu' })).group?.vars.k1).toBeUndefined();
      expect((await clusters.getCluster({ name: 'eu-1' })).vars).toEqual({});
      expect((await groups.listGroups({})).groups.map((g) => g.name)).toEqual(['eu', 'eu2', 'gold']);
      // a tenant names a group in its own assignment without reading it
      const own = await tenant.assignments.createAssignment({
        assignment: { ...base, name: 'by-group', groups: ['eu'] },
      });
      expect(own.matchedClusters).toBe(2);
      await runs('eu-1', (n) => n.includes('by-group'));
    });
  });
});
