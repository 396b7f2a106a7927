// The agent end to end over its lifetime: an assignment leaving the desired set (pruned or left in
// place), a restart while NATS is down, a change published while it was disconnected, stopping.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AssignmentState, Reason } from '../../../proto/index.js';
import { inventoryName } from '../../../agent/apply/inventory.js';
import { eventually } from '../../env/index.js';
import { AgentHarness, cm } from './agent-harness.js';
import { describeStatus } from './hub-double.js';

describe('agent: removal, outage and restart', () => {
  let h: AgentHarness;
  let statusesBeforeOutage = 0;

  beforeAll(async () => {
    h = await AgentHarness.start();
    await h.startWithHeadApplied();
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
  }, 60_000);

  it('prunes everything when the assignment leaves the desired set', async () => {
    // three objects in two namespaces: settings and flags in team-a, extra in team-a-extra
    const fixed = await h.repo.commit({
      'apps/config.yaml': `${cm('settings', 'three')}---\n${cm('flags', 'on')}`,
      'apps/more/extra.yaml': cm('extra', 'x', 'team-a-extra'),
      'apps/deploy.yaml': null,
    });
    let before = h.hub.statuses.length;
    await h.hub.publish(h.desired(h.web(fixed)));
    await h.ready(fixed, before);
    expect((await h.configMap('team-a', 'settings'))?.data).toEqual({ value: 'three' });

    before = h.hub.statuses.length;
    await h.hub.publish(h.desired());
    const status = await h.hub.waitForStatus((s) => s.assignment === 'web' && s.reason === Reason.Deleted, {
      after: before,
    });
    expect(status.changes?.deleted).toBe(3);
    expect(await h.configMap('team-a', 'settings')).toBeUndefined();
    expect(await h.configMap('team-a-extra', 'extra')).toBeUndefined();
    expect(await h.configMap('gitfleet-system', inventoryName('team-a', 'web'))).toBeUndefined();
    // tenant namespaces stay
    await h.core.readNamespace({ name: 'team-a' });
  });

  it('reconciles its persisted desired set after a restart while NATS is down', async () => {
    const commit = await h.repo.head();
    const before = h.hub.statuses.length;
    await h.hub.publish(h.desired(h.web(commit)));
    await h.ready(commit, before);

    await h.agent!.stop();
    h.agent = undefined;
    statusesBeforeOutage = h.hub.statuses.length;
    await h.nats.kill();
    // drift while nobody watches
    await h.core.deleteNamespacedConfigMap({ namespace: 'team-a', name: 'settings' });

    const local = h.localStatuses.length;
    await h.startAgent();
    await eventually(() => h.configMap('team-a', 'settings'), { timeoutMs: 30_000 });
    const s = await eventually(() =>
      h.localStatuses.slice(local).find((x) => x.state === AssignmentState.ASSIGNMENT_STATE_READY),
    );
    expect(s.changes?.created).toBe(1);
  });

  it('picks up a change published while it was disconnected, once NATS is back', async () => {
    // NATS is down since the previous test; the agent keeps trying to connect
    await h.nats.restart();
    const commit = await h.repo.commit({
      'apps/config.yaml': `${cm('settings', 'four')}---\n${cm('flags', 'on')}`,
    });
    const before = h.hub.statuses.length;
    await eventually(async () => {
      await h.hub.publish(h.desired(h.web(commit)));
      return true;
    });
    const status = await h.ready(commit, before);
    expect(status.changes).toMatchObject({ configured: 1 });
    expect((await h.configMap('team-a', 'settings'))?.data).toEqual({ value: 'four' });
    // statuses made while NATS was down reached the stream as well
    expect(
      h.hub.statuses
        .slice(statusesBeforeOutage)
        .some((x) => x.changes?.created === 1 && x.state === AssignmentState.ASSIGNMENT_STATE_READY),
    ).toBe(true);
  });

  it('leaves the objects of a removed assignment in place when it did not prune', async () => {
    const webCommit = await h.repo.head();
    const commit = await h.repo.commit({ 'keep/kept.yaml': cm('kept', 'x') });
    const keep = h.web(commit, { name: 'keep', path: 'keep', prune: false });
    let before = h.hub.statuses.length;
    await h.hub.publish(h.desired(h.web(webCommit), keep));
    await h.hub.waitForStatus(
      (s) => s.assignment === 'keep' && s.state === AssignmentState.ASSIGNMENT_STATE_READY,
      {
        after: before,
      },
    );
    expect(await h.configMap('team-a', 'kept')).toBeDefined();

    before = h.hub.statuses.length;
    await h.hub.publish(h.desired(h.web(webCommit)));
    const status = await h.hub.waitForStatus((s) => s.assignment === 'keep' && s.reason === Reason.Deleted, {
      after: before,
    });
    expect(status.message).toContain('prune is off');
    expect(await h.configMap('team-a', 'kept')).toBeDefined();
    expect(await h.configMap('gitfleet-system', inventoryName('team-a', 'keep'))).toBeUndefined();
  });

  it('stops idempotently', async () => {
    const a = h.agent!;
    await Promise.all([a.stop(), a.stop()]);
    await a.stop();
    h.agent = undefined;
    // the last word from the agent for team-a/web was a success
    const last = h.hub.statuses.filter((x) => x.tenant === 'team-a' && x.assignment === 'web').at(-1)!;
    expect(describeStatus(last)).toContain('ASSIGNMENT_STATE_READY');
  });
});
