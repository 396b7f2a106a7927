import { describe, expect, it } from '@jest/globals';
import type { FleetEvent } from '../events/fleet-event.js';
import { AlertGate, MAX_SENDS_PER_MINUTE } from './alert-gate.js';

const ev = (kind: FleetEvent['kind'], f: Partial<FleetEvent> = {}): FleetEvent => ({
  kind,
  tenant: 'team-a',
  assignment: 'web',
  cluster: 'c1',
  severity: kind === 'assignment.failed' ? 'error' : 'info',
  message: `${kind} web`,
  atMs: 0,
  ...f,
});
const sent = (gate: AlertGate, e: FleetEvent, now: number) => gate.decide(e, now).send;

describe('AlertGate', () => {
  describe('threshold', () => {
    const gate = () => new AlertGate({ threshold: 3, windowSeconds: 60, rateLimitSeconds: 1 });

    it('sends assignment.failed only at the Nth failure within the window', () => {
      const g = gate();
      expect(g.decide(ev('assignment.failed'), 0)).toMatchObject({ send: false, held: 'threshold' });
      expect(sent(g, ev('assignment.failed'), 10_000)).toBe(false);
      expect(sent(g, ev('assignment.failed'), 20_000)).toBe(true);
      // counted afresh after an alert
      expect(sent(g, ev('assignment.failed'), 30_000)).toBe(false);
    });

    it('forgets failures older than the window', () => {
      const g = gate();
      expect(sent(g, ev('assignment.failed'), 0)).toBe(false);
      expect(sent(g, ev('assignment.failed'), 30_000)).toBe(false);
      expect(sent(g, ev('assignment.failed'), 60_001)).toBe(false); // the first one left the window
      expect(sent(g, ev('assignment.failed'), 61_000)).toBe(true);
    });

    it('counts per assignment and cluster', () => {
      const g = gate();
      for (const cluster of ['c1', 'c2', 'c3'])
        expect(sent(g, ev('assignment.failed', { cluster }), 1000)).toBe(false);
      for (const assignment of ['a', 'b'])
        expect(sent(g, ev('assignment.failed', { assignment }), 1000)).toBe(false);
    });

    it('sends recovered only when a failure alert was sent for it', () => {
      const g = gate();
      expect(sent(g, ev('assignment.failed'), 0)).toBe(false);
      expect(g.decide(ev('assignment.recovered'), 1000)).toMatchObject({
        send: false,
        held: 'no-failure-sent',
      });
      // a recovery resets the count
      for (const t of [2000, 3000]) expect(sent(g, ev('assignment.failed'), t)).toBe(false);
      expect(sent(g, ev('assignment.failed'), 4000)).toBe(true);
      expect(sent(g, ev('assignment.recovered'), 5000)).toBe(true);
      expect(sent(g, ev('assignment.recovered'), 9000)).toBe(false);
    });

    it('without a threshold, sends every failure and recovery at once', () => {
      const g = new AlertGate({ threshold: 0, windowSeconds: 0, rateLimitSeconds: 1 });
      expect(sent(g, ev('assignment.failed'), 0)).toBe(true);
      expect(sent(g, ev('assignment.recovered'), 2000)).toBe(true);
    });
  });

  describe('de-duplication', () => {
    it('sends the same event once per rate-limit window and counts the repeats into the next', () => {
      const g = new AlertGate({ threshold: 0, windowSeconds: 0, rateLimitSeconds: 300 });
      expect(g.decide(ev('cluster.offline', { tenant: undefined, assignment: undefined }), 0)).toEqual({
        send: true,
        message: 'cluster.offline web',
      });
      for (let i = 1; i <= 4; i++) {
        expect(
          g.decide(ev('cluster.offline', { tenant: undefined, assignment: undefined }), i * 1000),
        ).toMatchObject({
          send: false,
          held: 'duplicate',
        });
      }
      expect(g.decide(ev('cluster.offline', { tenant: undefined, assignment: undefined }), 300_000)).toEqual({
        send: true,
        message: 'cluster.offline web (and 4 more)',
      });
    });

    it('tells different events apart: kind, tenant, assignment, cluster or message', () => {
      const g = new AlertGate({ threshold: 0, windowSeconds: 0, rateLimitSeconds: 300 });
      expect(sent(g, ev('assignment.failed'), 0)).toBe(true);
      expect(sent(g, ev('assignment.recovered'), 0)).toBe(true);
      expect(sent(g, ev('assignment.failed', { tenant: 'team-b' }), 0)).toBe(true);
      expect(sent(g, ev('assignment.failed', { assignment: 'api' }), 0)).toBe(true);
      expect(sent(g, ev('assignment.failed', { cluster: 'c2' }), 0)).toBe(true);
      expect(sent(g, ev('assignment.failed', { message: 'other' }), 0)).toBe(true);
      expect(sent(g, ev('assignment.failed'), 1)).toBe(false);
    });
  });

  describe('rate limit', () => {
    it(`sends at most ${MAX_SENDS_PER_MINUTE} a minute per alert and says how many it dropped`, () => {
      const g = new AlertGate({ threshold: 0, windowSeconds: 0, rateLimitSeconds: 1 });
      for (let i = 0; i < MAX_SENDS_PER_MINUTE; i++)
        expect(sent(g, ev('assignment.failed', { cluster: `c${i}` }), i)).toBe(true);
      expect(g.decide(ev('assignment.failed', { cluster: 'x' }), 100)).toMatchObject({
        send: false,
        held: 'rate-limit',
      });
      expect(g.decide(ev('assignment.failed', { cluster: 'y' }), 200)).toMatchObject({
        send: false,
        held: 'rate-limit',
      });
      expect(g.decide(ev('assignment.failed', { cluster: 'z' }), 60_000)).toEqual({
        send: true,
        message: 'assignment.failed web (2 other events dropped by the rate limit)',
      });
    });
  });
});
