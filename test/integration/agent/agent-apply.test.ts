// The agent end to end, applying: a revision as the tenant (the agent up before the hub's bucket),
// an unchanged revision without writes, a second commit, pruning a removed file, suspension.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { AssignmentState, Reason, formatGitRevision } from '../../../proto/index.js';
import { inventoryName } from '../../../agent/apply/inventory.js';
import { eventually } from '../../env/index.js';
import { AgentHarness, CLUSTER, WATCHED_RESOURCES, cm } from './agent-harness.js';

describe('agent: apply and prune', () => {
  let h: AgentHarness;

  beforeAll(async () => {
    h = await AgentHarness.start();
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
  }, 60_000);

  it('applies a revision as the tenant, with field manager gitfleet, once the hub creates the bucket', async () => {
    // the agent comes up before the hub has created its bucket and stream
    await h.startAgent();
    await h.hub.createBus();
    const commit = await h.repo.head();
    await h.hub.publish(h.desired(h.web(commit)));

    const status = await h.ready(commit, 0);
    expect(status.changes).toEqual({ created: 3, configured: 0, unchanged: 0, deleted: 0 });
    expect(status.objects).toBe(3);
    expect(status.appliedRevision).toBe(formatGitRevision('main', commit));
    expect(status.observedGeneration).toBe(1);
    expect(status.cluster).toBe(CLUSTER);
    expect(status.finishedAtMs).toBeGreaterThanOrEqual(status.startedAtMs);

    const settings = await h.configMap('team-a', 'settings');
    expect(settings?.data).toEqual({ value: 'one' });
    expect(settings?.metadata?.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'gitfleet',
      'gitfleet.dev/tenant': 'team-a',
      'gitfleet.dev/assignment': 'web',
    });
    expect(settings?.metadata?.managedFields?.map((f) => [f.manager, f.operation])).toEqual([
      ['gitfleet', 'Apply'],
    ]);
    const dep = await h.apps.readNamespacedDeployment({ namespace: 'team-a', name: 'web' });
    expect(dep.spec?.replicas).toBe(2);

    // tenant onboarding: namespaces, ServiceAccount, RoleBindings
    await h.core.readNamespace({ name: 'team-a-extra' });
    await h.core.readNamespacedServiceAccount({ namespace: 'team-a', name: 'gitfleet-reconciler' });
    const rbac = h.kc.makeApiClient(RbacAuthorizationV1Api);
    const rb = await rbac.readNamespacedRoleBinding({ namespace: 'team-a-extra', name: 'gitfleet-team-a' });
    expect(rb.roleRef.name).toBe('admin');
    expect(rb.subjects).toEqual([
      expect.objectContaining({ kind: 'ServiceAccount', name: 'gitfleet-reconciler', namespace: 'team-a' }),
    ]);

    // the inventory, in the agent's namespace
    const inv = await h.configMap('gitfleet-system', inventoryName('team-a', 'web'));
    expect(JSON.parse(inv!.data!['inventory.json']).objects).toHaveLength(3);

    // heartbeats carry the generation and the version
    await eventually(() => h.hub.heartbeats.find((h) => h.observedGeneration === 1));
    expect(h.hub.heartbeats.at(-1)).toMatchObject({ cluster: CLUSTER, agentVersion: '0.1.0' });
  });

  it('re-reconciles an unchanged revision without writing and without fetching', async () => {
    const commit = await h.repo.head();
    const before = h.hub.statuses.length;
    await h.ready(commit, before); // let one resync pass finish first
    const writes = await h.kube.writeRequests(WATCHED_RESOURCES);
    const fetches = h.git.requests();
    const rv = (await h.configMap('team-a', 'settings'))?.metadata?.resourceVersion;

    const after = h.hub.statuses.length;
    const status = await h.ready(commit, after);
    expect(status.changes).toEqual({ created: 0, configured: 0, unchanged: 3, deleted: 0 });
    expect(await h.kube.writeRequests(WATCHED_RESOURCES)).toBe(writes);
    expect(h.git.requests()).toBe(fetches);
    expect((await h.configMap('team-a', 'settings'))?.metadata?.resourceVersion).toBe(rv);
  });

  it('applies a second commit with the right change counts', async () => {
    const commit = await h.repo.commit({
      'apps/config.yaml': `${cm('settings', 'two')}---\n${cm('flags', 'on')}`,
      'apps/more/extra.yaml': cm('extra', 'x', 'team-a-extra'),
    });
    const before = h.hub.statuses.length;
    await h.hub.publish(h.desired(h.web(commit)));
    const status = await h.ready(commit, before);
    expect(status.changes).toEqual({ created: 1, configured: 1, unchanged: 2, deleted: 0 });
    expect(status.objects).toBe(4);
    expect((await h.configMap('team-a', 'settings'))?.data).toEqual({ value: 'two' });
    expect(await h.configMap('team-a-extra', 'extra')).toBeDefined();
    // a PROGRESSING report came first
    expect(
      h.hub.statuses
        .slice(before)
        .some(
          (s) =>
            s.state === AssignmentState.ASSIGNMENT_STATE_PROGRESSING && s.desiredRevision.endsWith(commit),
        ),
    ).toBe(true);
  });

  it('prunes the objects of a removed file', async () => {
    const commit = await h.repo.commit({ 'apps/deploy.yaml': null });
    const before = h.hub.statuses.length;
    await h.hub.publish(h.desired(h.web(commit)));
    const status = await h.ready(commit, before);
    expect(status.changes).toMatchObject({ created: 0, configured: 0, deleted: 1 });
    expect(status.objects).toBe(3);
    await expect(h.apps.readNamespacedDeployment({ namespace: 'team-a', name: 'web' })).rejects.toMatchObject(
      {
        code: 404,
      },
    );
  });

  it('applies and prunes nothing while the assignment is suspended', async () => {
    const good = await h.repo.head();
    const paused = await h.repo.commit({ 'apps/paused.yaml': cm('paused', 'x') });
    let before = h.hub.statuses.length;
    await h.hub.publish(h.desired(h.web(paused, { suspend: true })));
    const status = await h.hub.waitForStatus(
      (s) => s.state === AssignmentState.ASSIGNMENT_STATE_SUSPENDED && s.desiredRevision.endsWith(paused),
      { after: before },
    );
    expect(status.reason).toBe(Reason.Suspended);
    expect(status.appliedRevision).toBe(formatGitRevision('main', good));
    expect(await h.configMap('team-a', 'paused')).toBeUndefined();

    const resumed = await h.repo.commit({ 'apps/paused.yaml': null });
    before = h.hub.statuses.length;
    await h.hub.publish(h.desired(h.web(resumed)));
    expect((await h.ready(resumed, before)).changes).toMatchObject({ created: 0, configured: 0, deleted: 0 });
  });
});
