// The hub's control requests answered by a real agent on the real apiserver and nats-server:
// reconcile now (the answer is the status of that pass), diff of a changed revision by
// server-side dry-run (created, changed with field paths, deleted; never a Secret's value; nothing
// written), tree of the inventory, hostile requests (error replies, the agent keeps working), and
// the Kubernetes Events the agent records on the inventory, de-duplicated.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AgentRequest, AssignmentState, Reason, formatGitRevision } from '../../../proto/index.js';
import { inventoryName } from '../../../agent/apply/inventory.js';
import { eventually } from '../../env/index.js';
import { AgentHarness, WATCHED_RESOURCES, cm } from './agent-harness.js';

const secret = (value: string) =>
  `apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: "${value}"\n`;

describe('agent: control requests and events', () => {
  let h: AgentHarness;

  beforeAll(async () => {
    h = await AgentHarness.start();
    await h.repo.commit({ 'apps/secret.yaml': secret('first-s3cret-value') }, 'add a secret');
    await h.startWithHeadApplied();
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
  }, 60_000);

  it('reconciles now and answers with the status of that pass', async () => {
    const commit = await h.repo.head();
    const asked = Date.now();
    const reply = await h.hub.control({ kind: 'reconcile', tenant: 'team-a', assignment: 'web' });
    expect(reply.error).toBe('');
    expect(reply.status).toMatchObject({
      tenant: 'team-a',
      assignment: 'web',
      state: AssignmentState.ASSIGNMENT_STATE_READY,
      desiredRevision: formatGitRevision('main', commit),
    });
    expect(reply.status!.startedAtMs).toBeGreaterThanOrEqual(asked);
    expect(reply.revision).toBe(formatGitRevision('main', commit));
  });

  it('diffs a changed revision by server-side dry-run: created, changed fields, deleted, no values, nothing written', async () => {
    const applied = await h.repo.head();
    // a new revision: one ConfigMap changed, one removed, one added, the Secret's value changed
    await h.repo.commit(
      {
        'apps/config.yaml': cm('settings', 'two'),
        'apps/extra.yaml': cm('extra', 'new'),
        'apps/secret.yaml': secret('second-s3cret-value'),
      },
      'change',
    );
    const nextCommit = await h.repo.head();
    // the hub publishes it suspended, so that only the diff sees it
    await h.hub.publish(h.desired(h.web(nextCommit, { suspend: true })));
    await eventually(() => h.agent!.desired().assignments[0]?.suspend === true);
    const writes = await h.kube.writeRequests(WATCHED_RESOURCES);

    const reply = await h.hub.control({ kind: 'diff', tenant: 'team-a', assignment: 'web' });
    expect(reply.error).toBe('');
    expect(reply.revision).toBe(formatGitRevision('main', nextCommit));
    const byObject = Object.fromEntries(reply.diff.map((d) => [d.object, d]));
    expect(byObject['ConfigMap team-a/settings']).toEqual({
      object: 'ConfigMap team-a/settings',
      action: 'changed',
      fields: ['/data/value'],
    });
    expect(byObject['ConfigMap team-a/extra']).toMatchObject({ action: 'created' });
    expect(byObject['ConfigMap team-a/flags']).toMatchObject({ action: 'deleted' });
    expect(byObject['Deployment team-a/web']).toMatchObject({ action: 'unchanged', fields: [] });
    expect(byObject['Secret team-a/creds']).toMatchObject({ action: 'changed', fields: ['/data/password'] });
    // only paths: neither value of the Secret, in clear or base64
    const text = JSON.stringify(reply);
    for (const v of ['first-s3cret-value', 'second-s3cret-value']) {
      expect(text).not.toContain(v);
      expect(text).not.toContain(Buffer.from(v).toString('base64'));
    }
    // a dry run writes nothing
    expect(await h.kube.writeRequests(WATCHED_RESOURCES)).toBe(writes);
    expect((await h.configMap('team-a', 'settings'))?.data).toEqual({ value: 'one' });
    expect(await h.configMap('team-a', 'extra')).toBeUndefined();

    // back to the applied revision for the next tests
    await h.hub.publish(h.desired(h.web(applied)));
    await eventually(() => h.agent!.desired().assignments[0]?.suspend === false);
  });

  it("lists the inventory's objects with their health", async () => {
    // suspended, so that no pass puts the deleted ConfigMap back before the tree is read
    const applied = h.agent!.desired().assignments[0].source!.commit;
    await h.hub.publish(h.desired(h.web(applied, { suspend: true })));
    await eventually(() => h.agent!.desired().assignments[0]?.suspend === true);
    await h.agent!.idle();
    await h.core.deleteNamespacedConfigMap({ namespace: 'team-a', name: 'flags' });
    const reply = await h.hub.control({ kind: 'tree', tenant: 'team-a', assignment: 'web' });
    expect(reply.error).toBe('');
    const health = Object.fromEntries(reply.objects.map((o) => [`${o.kind}/${o.name}`, o.health]));
    expect(health).toMatchObject({
      'ConfigMap/settings': 'Current',
      'ConfigMap/flags': 'NotFound',
      // no kubelet runs here: its pods never become ready (kstatus: InProgress)
      'Deployment/web': 'InProgress',
      'Secret/creds': 'Current',
    });
    expect(reply.objects.find((o) => o.name === 'web')).toMatchObject({
      apiVersion: 'apps/v1',
      namespace: 'team-a',
    });
    // resumed, the next pass puts it back
    await h.hub.publish(h.desired(h.web(applied)));
    await eventually(() => h.configMap('team-a', 'flags'));
  });

  it.each([
    [
      'an unknown kind',
      { kind: 'delete-everything', tenant: 'team-a', assignment: 'web' },
      /kind "delete-everything"/,
    ],
    [
      "another tenant's assignment",
      { kind: 'diff', tenant: 'team-b', assignment: 'web' },
      /not desired on cluster edge-1/,
    ],
    ['an unknown assignment', { kind: 'tree', tenant: 'team-a', assignment: 'nope' }, /not desired/],
    [
      'a name that is no name',
      { kind: 'tree', tenant: 'team-a', assignment: '../x' },
      /assignment: .* not a valid name/,
    ],
    [
      'a deadline in the past',
      { kind: 'reconcile', tenant: 'team-a', assignment: 'web', deadlineMs: 1 },
      /after its deadline/,
    ],
  ])('answers %s with an error and keeps working', async (_what, req, error) => {
    const reply = await h.hub.control(req);
    expect(reply.error).toMatch(error);
    expect(reply.status).toBeUndefined();
    expect(reply.diff).toEqual([]);
  });

  it('answers garbage and oversized requests with an error', async () => {
    expect((await h.hub.control(new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x02]))).error).toMatch(
      /not an AgentRequest/,
    );
    const big = AgentRequest.encode({
      kind: 'tree',
      tenant: 'team-a',
      assignment: 'x'.repeat(10_000),
      deadlineMs: Date.now() + 10_000,
    }).finish();
    expect((await h.hub.control(big)).error).toMatch(/more than 4096/);
    // still answering
    expect((await h.hub.control({ kind: 'tree', tenant: 'team-a', assignment: 'web' })).error).toBe('');
  });

  it('records failures as de-duplicated Warning Events on the inventory, and applies as Normal ones', async () => {
    const events = async () =>
      (await h.core.listNamespacedEvent({ namespace: 'gitfleet-system' })).items.filter(
        (e) => e.involvedObject.name === inventoryName('team-a', 'web'),
      );
    // the first apply was recorded (and the pass that put back the deleted ConfigMap)
    const succeeded = (await events()).filter((e) => e.reason === Reason.ReconciliationSucceeded);
    expect(succeeded.map((e) => e.message)).toContainEqual(
      expect.stringMatching(/: 1 created, 0 configured/),
    );
    const applied = succeeded.find((e) => /: 4 created/.test(e.message ?? ''));
    expect(applied).toMatchObject({
      type: 'Normal',
      involvedObject: { kind: 'ConfigMap', namespace: 'gitfleet-system' },
      reportingComponent: 'gitfleet-agent',
      source: { component: 'gitfleet-agent' },
    });

    // a revision that fails to build, retried with backoff: one Event, its count growing
    await h.repo.commit({ 'apps/broken.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: [not, a, map]\n' });
    const broken = await h.repo.head();
    await h.hub.publish(h.desired(h.web(broken)));
    const failed = await h.hub.waitForStatus(
      (s) => s.state === AssignmentState.ASSIGNMENT_STATE_FAILED && s.desiredRevision.endsWith(broken),
    );
    const warning = await eventually(async () => (await events()).find((e) => e.type === 'Warning'));
    expect(warning.reason).toBe(failed.reason);
    expect(warning.message).toBe(failed.message);
    // several failed passes later, still one Warning Event for them
    const reconciles = await Promise.all(
      [1, 2, 3].map(() => h.hub.control({ kind: 'reconcile', tenant: 'team-a', assignment: 'web' })),
    );
    expect(reconciles.map((r) => r.status?.state)).toEqual([
      AssignmentState.ASSIGNMENT_STATE_FAILED,
      AssignmentState.ASSIGNMENT_STATE_FAILED,
      AssignmentState.ASSIGNMENT_STATE_FAILED,
    ]);
    expect((await events()).filter((e) => e.type === 'Warning')).toHaveLength(1);
  });
});
