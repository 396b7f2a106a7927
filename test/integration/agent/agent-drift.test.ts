// Drift on the real apiserver: a change someone else makes to an applied object is corrected by
// the drift watch long before the resync (10 minutes here), report mode shows the drifted fields
// and writes nothing, an ignored field stays as the other writer set it, immutable fields and
// other field managers' fields fail clearly unless --force, and the watches follow the
// inventories and end with the agent.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1ConfigMap } from '@kubernetes/client-node';
import {
  AssignmentState,
  Reason,
  type AssignmentStatus,
  type DesiredAssignment,
} from '../../../proto/index.js';
import type { DeepPartial } from '../../../proto/index.js';
import { eventually } from '../../env/index.js';
import { AgentHarness, cm } from './agent-harness.js';

const service = (clusterIP: string) => `apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  clusterIP: ${clusterIP}
  selector: {app: web}
  ports:
  - port: 80
`;

describe('agent: drift', () => {
  let h: AgentHarness;
  let commit: string;
  /** The assignment as published last (so each step changes one setting). */
  let web: DeepPartial<DesiredAssignment>;

  const publish = async (extra: Partial<DesiredAssignment>, at = commit): Promise<number> => {
    const before = h.hub.statuses.length;
    web = h.web(at, extra);
    await h.hub.publish(h.desired(web));
    return before;
  };
  const statusAfter = (after: number, match: (s: AssignmentStatus) => boolean) =>
    h.hub.waitForStatus((s) => s.assignment === 'web' && match(s), { after, timeoutMs: 30_000 });
  /** A foreign writer (an Update by field manager `manager`), as kubectl edit does. */
  const edit = async (name: string, change: (c: V1ConfigMap) => void, manager = 'intruder') => {
    const live = await h.core.readNamespacedConfigMap({ namespace: 'team-a', name });
    change(live);
    await h.core.replaceNamespacedConfigMap({ namespace: 'team-a', name, body: live, fieldManager: manager });
  };
  const drifted = (s: AssignmentStatus, object: string) => s.drifted.find((d) => d.object === object);

  beforeAll(async () => {
    h = await AgentHarness.start();
    // the resync is far away: anything corrected within the test was found by the watch
    await h.startWithHeadApplied({ resyncSeconds: 600 });
    commit = await h.repo.head();
    web = h.web(commit);
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
  }, 60_000);

  it('corrects a changed value, a removed field and a deleted object at once, and says which fields drifted', async () => {
    const before = h.hub.statuses.length;
    await edit('settings', (c) => (c.data = { value: 'changed by hand' }));
    await eventually(async () => (await h.configMap('team-a', 'settings'))?.data?.value === 'one', {
      timeoutMs: 30_000,
    });
    const s = await statusAfter(before, (x) => drifted(x, 'ConfigMap/team-a/settings') !== undefined);
    expect(s.state).toBe(AssignmentState.ASSIGNMENT_STATE_READY);
    expect(drifted(s, 'ConfigMap/team-a/settings')).toMatchObject({
      fields: ['/data/value'],
      corrected: true,
    });
    expect(s.message).toContain('corrected drift on 1 object(s): ConfigMap/team-a/settings /data/value');

    // a field we own removed
    await edit('flags', (c) => (c.data = {}));
    await eventually(async () => (await h.configMap('team-a', 'flags'))?.data?.value === 'on', {
      timeoutMs: 30_000,
    });
    // deleted
    const deleted = h.hub.statuses.length;
    await h.core.deleteNamespacedConfigMap({ namespace: 'team-a', name: 'flags' });
    await eventually(async () => (await h.configMap('team-a', 'flags'))?.data?.value === 'on', {
      timeoutMs: 30_000,
    });
    const gone = await statusAfter(
      deleted,
      (x) => drifted(x, 'ConfigMap/team-a/flags')?.fields[0] === '(deleted)',
    );
    expect(drifted(gone, 'ConfigMap/team-a/flags')?.corrected).toBe(true);
    // the earlier correction is still listed at this revision
    expect(drifted(gone, 'ConfigMap/team-a/settings')?.corrected).toBe(true);
  });

  it('does not fight our own writes: a quiet agent makes no further passes or writes', async () => {
    await h.agent!.idle();
    const count = h.hub.statuses.length;
    const writes = await h.kube.writeRequests(['configmaps', 'deployments']);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await h.kube.writeRequests(['configmaps', 'deployments'])).toBe(writes);
    expect(h.hub.statuses.length).toBe(count);
  });

  it('keeps an ignored field as the other writer set it and does not report it', async () => {
    const before = await publish({ drift: { mode: 'correct', ignore: ['apps/Deployment:/spec/replicas'] } });
    await statusAfter(before, (s) => s.state === AssignmentState.ASSIGNMENT_STATE_READY);
    const scaled = h.hub.statuses.length;
    const dep = await h.apps.readNamespacedDeployment({ namespace: 'team-a', name: 'web' });
    dep.spec!.replicas = 5;
    await h.apps.replaceNamespacedDeployment({
      namespace: 'team-a',
      name: 'web',
      body: dep,
      fieldManager: 'autoscaler',
    });
    // the watch queues a pass; it leaves replicas alone and finds no drift
    const s = await statusAfter(scaled, (x) => x.state === AssignmentState.ASSIGNMENT_STATE_READY);
    expect(drifted(s, 'Deployment/team-a/web')).toBeUndefined();
    expect(s.changes).toMatchObject({ configured: 0, created: 0 });
    expect((await h.apps.readNamespacedDeployment({ namespace: 'team-a', name: 'web' })).spec?.replicas).toBe(
      5,
    );
  });

  it('report mode shows the drifted fields and writes nothing', async () => {
    const before = await publish({ drift: { mode: 'report', ignore: ['apps/Deployment:/spec/replicas'] } });
    await statusAfter(before, (s) => s.state === AssignmentState.ASSIGNMENT_STATE_READY);
    const changed = h.hub.statuses.length;
    await edit('settings', (c) => (c.data = { value: 'hot fix' }));
    const s = await statusAfter(changed, (x) => drifted(x, 'ConfigMap/team-a/settings')?.corrected === false);
    expect(drifted(s, 'ConfigMap/team-a/settings')?.fields).toEqual(['/data/value']);
    expect(s.message).toContain(
      'drift on 1 object(s), not corrected (drift mode report): ConfigMap/team-a/settings /data/value',
    );
    const writes = await h.kube.writeRequests(['configmaps']);
    await h.agent!.idle();
    expect((await h.configMap('team-a', 'settings'))?.data?.value).toBe('hot fix');
    expect(await h.kube.writeRequests(['configmaps'])).toBe(writes);

    // back to correct: the next pass corrects it
    await publish({});
    await eventually(async () => (await h.configMap('team-a', 'settings'))?.data?.value === 'one', {
      timeoutMs: 30_000,
    });
  });

  it("reports another field manager's fields per field and takes them with --force", async () => {
    await h.core.createNamespacedConfigMap({
      namespace: 'team-a',
      fieldManager: 'other-tool',
      body: { metadata: { name: 'shared' }, data: { value: 'theirs' } },
    });
    commit = await h.repo.commit({ 'apps/shared.yaml': cm('shared', 'ours') });
    const before = await publish({});
    const failed = await statusAfter(before, (s) => s.state === AssignmentState.ASSIGNMENT_STATE_FAILED);
    expect(failed.reason).toBe(Reason.ApplyFailed);
    expect(failed.message).toContain(
      'apply ConfigMap team-a/shared (from apps/shared.yaml): 1 field(s) owned by another field manager: .data.value (conflict with "other-tool"',
    );
    expect(failed.message).toContain('use --force on the assignment to take them');
    expect((await h.configMap('team-a', 'shared'))?.data?.value).toBe('theirs');

    const forced = await publish({ force: true });
    await statusAfter(forced, (s) => s.state === AssignmentState.ASSIGNMENT_STATE_READY);
    expect((await h.configMap('team-a', 'shared'))?.data?.value).toBe('ours');
  });

  it('fails clearly on an immutable field (a Service clusterIP) and recreates the object with --force', async () => {
    commit = await h.repo.commit({ 'apps/svc.yaml': service('10.0.0.50') });
    let before = await publish({});
    await statusAfter(
      before,
      (s) => s.state === AssignmentState.ASSIGNMENT_STATE_READY && s.desiredRevision.endsWith(commit),
    );
    commit = await h.repo.commit({ 'apps/svc.yaml': service('10.0.0.60') });
    before = await publish({});
    const failed = await statusAfter(before, (s) => s.state === AssignmentState.ASSIGNMENT_STATE_FAILED);
    expect(failed.message).toContain('apply Service team-a/api (from apps/svc.yaml): spec.clusterIP');
    expect(failed.message).toContain('use --force on the assignment to delete and recreate the object');
    expect((await h.core.readNamespacedService({ namespace: 'team-a', name: 'api' })).spec?.clusterIP).toBe(
      '10.0.0.50',
    );

    before = await publish({ force: true });
    await statusAfter(
      before,
      (s) => s.state === AssignmentState.ASSIGNMENT_STATE_READY && s.desiredRevision.endsWith(commit),
    );
    expect((await h.core.readNamespacedService({ namespace: 'team-a', name: 'api' })).spec?.clusterIP).toBe(
      '10.0.0.60',
    );
  });

  it('watches only the namespaces and kinds in the inventories, and stops them when the assignment goes', async () => {
    const watches = h.agent!.driftWatches();
    expect(watches).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^system:serviceaccount:team-a:gitfleet-reconciler v1 ConfigMap team-a team-a$/,
        ),
        expect.stringMatching(/ apps\/v1 Deployment team-a team-a$/),
      ]),
    );
    expect(watches.every((w) => / team-a team-a$/.test(w))).toBe(true); // never cluster-wide here
    await h.hub.publish(h.desired());
    await eventually(() => h.agent!.driftWatches().length === 0, { timeoutMs: 30_000 });
  });

  it('closes every watch when the agent stops', async () => {
    const before = await publish({});
    await statusAfter(before, (s) => s.state === AssignmentState.ASSIGNMENT_STATE_READY);
    await eventually(() => h.agent!.driftWatches().length > 0);
    const agent = h.agent!;
    await agent.stop();
    expect(agent.driftWatches()).toEqual([]);
  });
});
