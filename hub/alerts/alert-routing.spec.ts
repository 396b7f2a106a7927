import { describe, expect, it } from '@jest/globals';
import type { FleetEvent } from '../events/fleet-event.js';
import { routesTo, type AlertFilter } from './alert-routing.js';

const failed = (tenant: string, assignment = 'web'): FleetEvent => ({
  kind: 'assignment.failed',
  tenant,
  assignment,
  cluster: 'c1',
  severity: 'error',
  message: 'x',
  atMs: 1,
});
const offline: FleetEvent = {
  kind: 'cluster.offline',
  cluster: 'c1',
  severity: 'error',
  message: 'x',
  atMs: 1,
};
const recovered: FleetEvent = { ...failed('team-a'), kind: 'assignment.recovered', severity: 'info' };
const alert = (f: Partial<AlertFilter> = {}): AlertFilter => ({
  tenant: '',
  events: [],
  assignments: [],
  severity: 'info',
  ...f,
});

describe('routesTo', () => {
  it("routes a tenant's events to that tenant's alerts only", () => {
    expect(routesTo(alert({ tenant: 'team-a' }), failed('team-a'))).toBe(true);
    expect(routesTo(alert({ tenant: 'team-a' }), failed('team-b'))).toBe(false);
  });

  it("routes cluster events (no tenant) to admin alerts only, and every tenant's events to them", () => {
    expect(routesTo(alert({ tenant: 'team-a' }), offline)).toBe(false);
    expect(routesTo(alert(), offline)).toBe(true);
    expect(routesTo(alert(), failed('team-a'))).toBe(true);
    expect(routesTo(alert(), failed('team-b'))).toBe(true);
  });

  it('filters by event kind (empty: all)', () => {
    expect(routesTo(alert({ events: ['assignment.failed'] }), failed('t'))).toBe(true);
    expect(routesTo(alert({ events: ['assignment.failed'] }), offline)).toBe(false);
    expect(routesTo(alert({ events: ['cluster.offline', 'cluster.online'] }), offline)).toBe(true);
  });

  it('filters by assignment (empty: all); cluster events are not held back by it', () => {
    expect(routesTo(alert({ assignments: ['web'] }), failed('t', 'web'))).toBe(true);
    expect(routesTo(alert({ assignments: ['web'] }), failed('t', 'api'))).toBe(false);
    expect(routesTo(alert({ assignments: ['web'] }), offline)).toBe(true);
  });

  it('sends events at least as severe as the alert asks', () => {
    expect(routesTo(alert({ severity: 'error' }), failed('t'))).toBe(true);
    expect(routesTo(alert({ severity: 'error' }), recovered)).toBe(false);
    expect(routesTo(alert({ severity: 'info' }), recovered)).toBe(true);
  });
});
