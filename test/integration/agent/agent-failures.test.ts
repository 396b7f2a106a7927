// The agent end to end, failing: a desired set with an invalid tenant, a manifest RBAC forbids,
// malformed YAML — each reported with its reason while the last good revision stays applied.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AssignmentState, Reason, formatGitRevision } from '../../../proto/index.js';
import { eventually } from '../../env/index.js';
import { AgentHarness, cm, tenants } from './agent-harness.js';

describe('agent: failures', () => {
  let h: AgentHarness;

  beforeAll(async () => {
    h = await AgentHarness.start();
    await h.startWithHeadApplied();
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
  }, 60_000);

  it('refuses a desired set with an invalid tenant namespace as a whole, keeping the last good one', async () => {
    const webCommit = await h.repo.head();
    const applied = h.agent!.desired().generation;
    const heartbeats = h.hub.heartbeats.length;
    await h.hub.publish({
      tenants: [
        ...tenants,
        { name: 'team-c', namespaces: ['Not_A_Namespace'], serviceAccount: 'gitfleet-reconciler' },
      ],
      assignments: [
        h.web(webCommit),
        h.web(webCommit, { tenant: 'team-c', name: 'site', targetNamespace: '' }),
      ],
    });
    // refused before any API call: reported with the heartbeat, the set in effect is unchanged
    const hb = await eventually(() =>
      h.hub.heartbeats.slice(heartbeats).find((b) => b.desiredSetError.includes('tenants[2].namespaces[0]')),
    );
    expect(hb.desiredSetError).toContain(
      'desired_set.tenants[2].namespaces[0]: "Not_A_Namespace" is not a valid name',
    );
    expect(h.agent!.desired().generation).toBe(applied);
    // the next good set takes effect and clears the error
    const before = h.hub.statuses.length;
    await h.hub.publish(h.desired(h.web(webCommit)));
    await h.ready(webCommit, before);
    await eventually(() => h.hub.heartbeats.at(-1)?.desiredSetError === '' || undefined);
  });

  it("refuses a manifest aimed at another tenant's namespace before any API call, applying none of the revision", async () => {
    const good = await h.repo.head();
    const commit = await h.repo.commit({ 'apps/evil.yaml': cm('evil', 'x', 'team-b') });
    const before = h.hub.statuses.length;
    await h.hub.publish(h.desired(h.web(commit)));
    const status = await h.hub.waitForStatus(
      (s) => s.state === AssignmentState.ASSIGNMENT_STATE_FAILED && s.desiredRevision.endsWith(commit),
      { after: before },
    );
    expect(status.reason).toBe(Reason.PolicyViolation);
    expect(status.message).toBe(
      `refused, nothing of this revision was applied: apps/evil.yaml (document 1): ConfigMap team-b/evil: namespace "team-b" is not one of tenant team-a's namespaces (team-a, team-a-extra)`,
    );
    expect(status.appliedRevision).toBe(formatGitRevision('main', good));
    expect(await h.configMap('team-b', 'evil')).toBeUndefined();
    // the last good revision stays applied
    expect(await h.configMap('team-a', 'settings')).toBeDefined();
  });

  it('keeps the previous revision applied when a commit has malformed YAML, naming file and line', async () => {
    // the last good revision: without the forbidden manifest, settings at "two"
    const good = await h.repo.commit({
      'apps/evil.yaml': null,
      'apps/config.yaml': `${cm('settings', 'two')}---\n${cm('flags', 'on')}`,
    });
    let before = h.hub.statuses.length;
    await h.hub.publish(h.desired(h.web(good)));
    await h.ready(good, before);

    const bad = await h.repo.commit({
      'apps/config.yaml': `${cm('settings', 'three')}---\n${cm('flags', 'on')}`,
      'apps/broken.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken: yes\n',
    });
    before = h.hub.statuses.length;
    await h.hub.publish(h.desired(h.web(bad)));
    const status = await h.hub.waitForStatus(
      (s) => s.state === AssignmentState.ASSIGNMENT_STATE_FAILED && s.desiredRevision.endsWith(bad),
      { after: before },
    );
    expect(status.reason).toBe(Reason.BuildFailed);
    expect(status.message).toMatch(/^apps\/broken\.yaml: YAML syntax error at line 4, column \d+: /);
    expect(status.appliedRevision).toBe(formatGitRevision('main', good));
    // nothing of the broken revision was applied
    expect((await h.configMap('team-a', 'settings'))?.data).toEqual({ value: 'two' });
  });
});
