// Order and retries on a real apiserver: a chain a → b → c applies in order; while b fails, c
// waits and says so; fixing b lets c apply at once (the resync is a minute here, so only the wake
// can do it in time); a failing assignment backs off exponentially from its retry interval and
// reports when it retries next.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AssignmentState, Reason, formatGitRevision, type AssignmentStatus } from '../../../proto/index.js';
import { eventually } from '../../env/index.js';
import { AgentHarness, cm } from './agent-harness.js';

// a Deployment the API server refuses (no selector, no template): ApplyFailed, retried with backoff
const invalidDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: broken
spec:
  replicas: 1
`;

describe('agent: order and retries', () => {
  let h: AgentHarness;

  const chain = (commit: string) =>
    h.desired(
      h.web(commit, { name: 'a', path: 'order/a' }),
      h.web(commit, { name: 'b', path: 'order/b', dependsOn: ['a'], retryIntervalSeconds: 1 }),
      h.web(commit, { name: 'c', path: 'order/c', dependsOn: ['b'] }),
    );
  const of = (name: string, commit: string, state: AssignmentState) => (s: AssignmentStatus) =>
    s.assignment === name && s.state === state && s.desiredRevision === formatGitRevision('main', commit);

  beforeAll(async () => {
    h = await AgentHarness.start();
    await h.hub.createBus();
    // a resync of a minute: whatever happens sooner is the agent reacting, not its timer
    await h.startAgent({ resyncSeconds: 60 });
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
  }, 60_000);

  it('applies a chain a → b → c in order', async () => {
    const commit = await h.repo.commit({
      'order/a/cm.yaml': cm('order-a', 'one'),
      'order/b/cm.yaml': cm('order-b', 'one'),
      'order/c/cm.yaml': cm('order-c', 'one'),
    });
    const before = h.hub.statuses.length;
    await h.hub.publish(chain(commit));
    const ready = async (name: string) =>
      h.hub.waitForStatus(of(name, commit, AssignmentState.ASSIGNMENT_STATE_READY), { after: before });
    const [a, b, c] = [await ready('a'), await ready('b'), await ready('c')];
    expect(a.finishedAtMs).toBeLessThanOrEqual(b.startedAtMs);
    expect(b.finishedAtMs).toBeLessThanOrEqual(c.startedAtMs);
    expect(c.waitingFor).toEqual([]);
    // c started before b was Ready, so it said what it waited for
    const waited = h.hub.statuses
      .slice(before)
      .filter((s) => s.assignment === 'c' && s.reason === Reason.DependencyNotReady);
    for (const s of waited) {
      expect(s.state).toBe(AssignmentState.ASSIGNMENT_STATE_PENDING);
      expect(s.message).toMatch(/^waiting for team-a\/b \(/);
      expect(s.waitingFor).toEqual(['team-a/b']);
    }
    expect(await h.configMap('team-a', 'order-c')).toBeDefined();
  });

  it('keeps c waiting while b fails, b backing off from its retry interval with its next retry in status', async () => {
    const commit = await h.repo.commit({
      'order/b/broken.yaml': invalidDeployment,
      'order/c/cm.yaml': cm('order-c', 'two'),
    });
    const before = h.hub.statuses.length;
    await h.hub.publish(chain(commit));
    const failed = (n: number) =>
      eventually(
        () => {
          const f = h.hub.statuses
            .slice(before)
            .filter(of('b', commit, AssignmentState.ASSIGNMENT_STATE_FAILED));
          return f.length >= n ? f : undefined;
        },
        { timeoutMs: 60_000 },
      );
    const failures = await failed(4);
    expect(failures[0].reason).toBe(Reason.ApplyFailed);
    expect(failures[0].message).toMatch(/Deployment team-a\/broken/);
    // retry interval 1s, doubled per failure (±10% jitter): ~1s, ~2s, ~4s
    const delays = failures.map((f) => f.nextRetryAtMs - f.finishedAtMs);
    expect(delays[0]).toBeGreaterThanOrEqual(900);
    expect(delays[0]).toBeLessThanOrEqual(1100);
    expect(delays[1]).toBeGreaterThanOrEqual(1800);
    expect(delays[2]).toBeGreaterThanOrEqual(3600);
    expect(delays[2]).toBeLessThanOrEqual(4400);
    expect(failures[1].startedAtMs).toBeGreaterThanOrEqual(failures[0].nextRetryAtMs - 50);

    const waiting = await h.hub.waitForStatus(
      (s) =>
        s.assignment === 'c' && s.reason === Reason.DependencyNotReady && s.message.includes('ApplyFailed'),
      { after: before },
    );
    expect(waiting.state).toBe(AssignmentState.ASSIGNMENT_STATE_PENDING);
    expect(waiting.waitingFor).toEqual(['team-a/b']);
    expect(waiting.message).toMatch(/^waiting for team-a\/b \(ApplyFailed: .*Deployment team-a\/broken/);
    expect(waiting.nextRetryAtMs).toBe(0);
    // nothing of c's new revision is applied; its last applied revision stays
    expect((await h.configMap('team-a', 'order-c'))?.data).toEqual({ value: 'one' });
  });

  it('applies c as soon as b is fixed, without waiting for the resync', async () => {
    const commit = await h.repo.commit({ 'order/b/broken.yaml': null });
    const before = h.hub.statuses.length;
    await h.hub.publish(chain(commit));
    const b = await h.hub.waitForStatus(of('b', commit, AssignmentState.ASSIGNMENT_STATE_READY), {
      after: before,
    });
    expect(b.nextRetryAtMs).toBe(0);
    const c = await h.hub.waitForStatus(of('c', commit, AssignmentState.ASSIGNMENT_STATE_READY), {
      after: before,
      timeoutMs: 20_000, // the resync is 60 s
    });
    expect(c.startedAtMs).toBeGreaterThanOrEqual(b.finishedAtMs);
    expect(c.startedAtMs - b.finishedAtMs).toBeLessThan(10_000);
    expect((await h.configMap('team-a', 'order-c'))?.data).toEqual({ value: 'two' });
  });
});
