// The agent end to end, failing: a tenant that cannot be set up, a manifest RBAC forbids, malformed
// YAML — each reported with its reason while the last good revision stays applied.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AssignmentState, Reason, formatGitRevision } from '../../../proto/index.js';
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

  it('reports TenantSetupFailed when a tenant cannot be set up', async () => {
    const webCommit = await h.repo.head();
    const before = h.hub.statuses.length;
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
    const status = await h.hub.waitForStatus(
      (s) => s.tenant === 'team-c' && s.state === AssignmentState.ASSIGNMENT_STATE_FAILED,
      {
        after: before,
      },
    );
    expect(status.reason).toBe(Reason.TenantSetupFailed);
    expect(status.message).toBe(
      'tenant "team-c" refused: namespaces[0]: "Not_A_Namespace" is not a valid namespace name; nothing was created for it',
    );
    // other tenants are not held up
    await h.ready(webCommit, before);
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
