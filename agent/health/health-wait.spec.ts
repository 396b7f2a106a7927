import { describe, expect, it } from '@jest/globals';
import { HealthOptions, Reason } from '../../proto/index.js';
import type { Discovery } from '../kube/discovery.js';
import type { KubeClient } from '../kube/kube-client.js';
import type { ObjectRef } from '../kube/objects.js';
import { HealthWaits, duration, reconcileHealth } from './health-wait.js';

const widget = (phase?: string) => ({
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name: 'w1', namespace: 'team-a', generation: 1 },
  ...(phase ? { status: { phase } } : {}),
});

const ref: ObjectRef = { apiVersion: 'example.com/v1', kind: 'Widget', namespace: 'team-a', name: 'w1' };

const health = HealthOptions.fromPartial({
  wait: true,
  timeoutSeconds: 300,
  exprs: [
    {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      current: "has(status.phase) && status.phase == 'Ready'",
      failed: "has(status.phase) && status.phase == 'Failed'",
    },
  ],
});

function step(live: object, waits: HealthWaits, nowMs: number) {
  return reconcileHealth({
    key: 'team-a/widgets',
    revision: 'main@sha1:1',
    health,
    applied: [ref],
    client: { get: () => Promise.resolve(live) } as unknown as KubeClient,
    discovery: {} as Discovery,
    waits,
    nowMs,
  });
}

describe('duration', () => {
  it('writes whole seconds up, as Go does', () => {
    expect(duration(0)).toBe('0s');
    expect(duration(2_001)).toBe('3s');
    expect(duration(252_000)).toBe('4m12s');
    expect(duration(300_000)).toBe('5m0s');
    expect(duration(3_605_000)).toBe('1h0m5s');
    expect(duration(-5)).toBe('0s');
  });
});

describe('reconcileHealth', () => {
  it('waits naming the object and the time left, fails past the timeout, and is healthy again later', async () => {
    const waits = new HealthWaits();
    const first = await step(widget(), waits, 1_000);
    expect(first).toEqual({
      pending: true,
      notReady: ['Widget/team-a/w1: no health expression of Widget is true yet'],
      summary:
        'waiting for 1 of 1 object(s) to be healthy (timeout in 5m0s): Widget/team-a/w1: no health expression of Widget is true yet',
    });
    // the clock runs from the first pass that waited on the revision
    expect((await step(widget('Pending'), waits, 49_000))?.summary).toContain('(timeout in 4m12s)');
    await expect(step(widget('Pending'), waits, 301_000)).rejects.toMatchObject({
      reason: Reason.HealthCheckFailed,
      message:
        'health check timed out after 5m0s: 1 of 1 object(s) not healthy: Widget/team-a/w1: no health expression of Widget is true yet',
    });
    // a later pass checks again: healthy now
    expect(await step(widget('Ready'), waits, 400_000)).toEqual({
      pending: false,
      notReady: [],
      summary: '1 object(s) healthy',
    });
  });

  it('fails at once when the failed expression is true, whatever the time left', async () => {
    await expect(step(widget('Failed'), new HealthWaits(), 1_000)).rejects.toMatchObject({
      reason: Reason.HealthCheckFailed,
      message: 'health check failed: Widget/team-a/w1: failed expression of Widget is true',
    });
  });
});
