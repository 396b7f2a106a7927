import { describe, expect, it } from '@jest/globals';
import { livenessCheckIntervalMs, livenessTransitions } from './cluster-liveness-events.service.js';

describe('livenessTransitions', () => {
  const limit = 90_000;

  it('sees no event on the first look, whatever the state (a hub start is not a transition)', () => {
    const last = new Map<string, string>();
    const events = livenessTransitions(
      last,
      [
        { name: 'old', lastHeartbeatMs: 1 },
        { name: 'up', lastHeartbeatMs: 1_000_000 },
        { name: 'new', lastHeartbeatMs: 0 },
      ],
      1_000_000,
      limit,
    );
    expect(events).toEqual([]);
    expect([...last]).toEqual([
      ['old', 'Offline'],
      ['up', 'Online'],
      ['new', 'Unknown'],
    ]);
  });

  it('emits cluster.offline (error) when heartbeats stop and cluster.online (info) when they return', () => {
    const last = new Map<string, string>();
    livenessTransitions(last, [{ name: 'c1', lastHeartbeatMs: 1000 }], 1000, limit);
    const off = livenessTransitions(
      last,
      [{ name: 'c1', lastHeartbeatMs: 1000 }],
      1000 + limit + 1000,
      limit,
    );
    expect(off).toEqual([
      {
        kind: 'cluster.offline',
        cluster: 'c1',
        severity: 'error',
        message: 'cluster c1 is offline: no heartbeat for 91s',
        atMs: 1000 + limit + 1000,
      },
    ]);
    expect(off[0]).not.toHaveProperty('tenant');
    // still offline: nothing new
    expect(livenessTransitions(last, [{ name: 'c1', lastHeartbeatMs: 1000 }], 200_000, limit)).toEqual([]);
    const on = livenessTransitions(last, [{ name: 'c1', lastHeartbeatMs: 300_000 }], 300_000, limit);
    expect(on.map((e) => [e.kind, e.severity, e.message])).toEqual([
      ['cluster.online', 'info', 'cluster c1 is back online'],
    ]);
  });

  it("a cluster's first heartbeat (Unknown → Online) is not 'back online'", () => {
    const last = new Map<string, string>();
    livenessTransitions(last, [{ name: 'c1', lastHeartbeatMs: 0 }], 1000, limit);
    expect(livenessTransitions(last, [{ name: 'c1', lastHeartbeatMs: 2000 }], 2000, limit)).toEqual([]);
  });

  it('forgets deleted clusters', () => {
    const last = new Map([['gone', 'Online']]);
    livenessTransitions(last, [], 1000, limit);
    expect(last.size).toBe(0);
  });

  it('checks every 1 to 5 seconds, a third of the limit between', () => {
    expect(livenessCheckIntervalMs(1)).toBe(1000);
    expect(livenessCheckIntervalMs(6)).toBe(2000);
    expect(livenessCheckIntervalMs(90)).toBe(5000);
  });
});
