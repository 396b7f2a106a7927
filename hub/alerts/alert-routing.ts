// Which alerts an event reaches (pure). Per-tenant routing first: a tenant's alert gets only that
// tenant's events; an admin alert (no tenant) gets every event, the clusters' included. Then the
// alert's own filter: event kinds, assignments, minimum severity.
import type { FleetEvent, FleetEventSeverity } from '../events/fleet-event.js';

/** The part of an alert routing looks at. */
export interface AlertFilter {
  tenant: string;
  events: readonly string[];
  assignments: readonly string[];
  severity: FleetEventSeverity;
}

const RANK: Record<FleetEventSeverity, number> = { info: 0, error: 1 };

export function routesTo(alert: AlertFilter, event: FleetEvent): boolean {
  if (alert.tenant && event.tenant !== alert.tenant) return false;
  if (alert.events.length > 0 && !alert.events.includes(event.kind)) return false;
  // cluster events name no assignment: an assignment filter does not hold them back
  if (alert.assignments.length > 0 && event.assignment && !alert.assignments.includes(event.assignment))
    return false;
  return RANK[event.severity] >= RANK[alert.severity];
}
