// Fleet events (pure): what happened in the fleet that people may want to hear about, in one
// shape for every producer (status ingest, cluster liveness, rollouts) and every consumer (alerts).

export const FLEET_EVENT_KINDS = [
  'assignment.failed',
  'assignment.recovered',
  'rollout.paused',
  'rollout.finished',
  'cluster.offline',
  'cluster.online',
] as const;

export type FleetEventKind = (typeof FLEET_EVENT_KINDS)[number];

export type FleetEventSeverity = 'info' | 'error';

export const FLEET_EVENT_SEVERITIES: readonly FleetEventSeverity[] = ['info', 'error'];

export interface FleetEvent {
  kind: FleetEventKind;
  /** The tenant the event is about; absent for cluster events (they reach admin alerts only). */
  tenant?: string;
  assignment?: string;
  cluster?: string;
  revision?: string;
  /** One line for people; never a credential. */
  message: string;
  severity: FleetEventSeverity;
  atMs: number;
}

export function isFleetEventKind(value: string): value is FleetEventKind {
  return (FLEET_EVENT_KINDS as readonly string[]).includes(value);
}

/** Characters of an event's message kept (agents' texts can be long). */
export const MAX_EVENT_MESSAGE = 1000;
