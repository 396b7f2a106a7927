import { describe, expect, it } from '@jest/globals';
import { clusterState } from './cluster-liveness.js';

describe('clusterState', () => {
  it('is Unknown before the first heartbeat, Online within the limit, Offline past it', () => {
    const now = 1_000_000;
    expect(clusterState(0, now, 90_000)).toBe('Unknown');
    expect(clusterState(now - 90_000, now, 90_000)).toBe('Online');
    expect(clusterState(now - 90_001, now, 90_000)).toBe('Offline');
    // a heartbeat sent by a clock ahead of the hub's
    expect(clusterState(now + 5_000, now, 90_000)).toBe('Online');
  });
});
