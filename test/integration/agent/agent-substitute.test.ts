// Post-render substitution end to end on a real apiserver: the merged variables of a desired set
// reach the cluster substituted, an object annotated disabled is applied as written, and strict
// mode with an unset variable fails the revision naming the object and the variable while the
// last good revision stays applied.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AssignmentState, Reason, formatGitRevision } from '../../../proto/index.js';
import { AgentHarness } from './agent-harness.js';

const substituted = `apiVersion: v1
kind: ConfigMap
metadata:
  name: subst-\${cluster_name}
data:
  cluster: "\${cluster_name}"
  region: "\${cluster_label_region}"
  fallback: "\${missing:=fallback}"
  escaped: "$\${cluster_name}"
  injected: "\${payload}"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: script
  annotations:
    gitfleet.io/substitute: disabled
data:
  run.sh: "echo \${HOME} \${cluster_name}"
`;

const vars = {
  cluster_name: 'edge-1',
  cluster_label_region: 'eu-west-1',
  // a value holding YAML stays one string: no object or key can be injected through it
  payload: 'x\n---\napiVersion: v1\nkind: Secret',
};

describe('agent: post-render substitution', () => {
  let h: AgentHarness;

  beforeAll(async () => {
    h = await AgentHarness.start();
    await h.startWithHeadApplied();
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
  }, 60_000);

  it('applies the objects with the merged variables substituted, and disabled objects as written', async () => {
    const commit = await h.repo.commit({ 'apps/subst.yaml': substituted });
    const before = h.hub.statuses.length;
    await h.hub.publish(h.desired(h.web(commit, { substitute: { enabled: true, strict: false, vars } })));
    await h.ready(commit, before);
    expect((await h.configMap('team-a', 'subst-edge-1'))?.data).toEqual({
      cluster: 'edge-1',
      region: 'eu-west-1',
      fallback: 'fallback',
      escaped: '${cluster_name}',
      injected: vars.payload,
    });
    expect((await h.configMap('team-a', 'script'))?.data).toEqual({
      'run.sh': 'echo ${HOME} ${cluster_name}',
    });
  });

  it('fails a strict revision with an unset variable, naming object, field and variable; the last good one stays', async () => {
    const good = await h.repo.head();
    const bad = await h.repo.commit({
      'apps/subst.yaml': substituted.replace('"${missing:=fallback}"', '"${missing}"'),
    });
    const before = h.hub.statuses.length;
    await h.hub.publish(h.desired(h.web(bad, { substitute: { enabled: true, strict: true, vars } })));
    const status = await h.hub.waitForStatus(
      (s) => s.state === AssignmentState.ASSIGNMENT_STATE_FAILED && s.desiredRevision.endsWith(bad),
      { after: before },
    );
    expect(status.reason).toBe(Reason.BuildFailed);
    expect(status.message).toBe(
      'apps/subst.yaml (document 1) ConfigMap "subst-edge-1": data.fallback: variable "missing" is not set (strict substitution): ' +
        'set it with --var missing=VALUE on the assignment or the tenant, or give a default ${missing:=VALUE}',
    );
    expect(status.appliedRevision).toBe(formatGitRevision('main', good));
    expect((await h.configMap('team-a', 'subst-edge-1'))?.data?.fallback).toBe('fallback');
  });
});
