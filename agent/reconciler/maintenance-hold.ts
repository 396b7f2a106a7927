// Maintenance windows on the agent: whether a pass may take an assignment to a new revision now,
// or must keep the revision it runs until one of the cluster's windows opens. Pure: the windows,
// the time and the two revisions in, the decision and its status message out.
import {
  formatMaintenanceWindow,
  inMaintenanceWindow,
  shortRevision,
  type MaintenanceWindow,
} from '../../proto/index.js';

export interface HoldInput {
  /** The cluster's windows (DesiredSet.maintenance_windows, parsed); none: never held. */
  windows: readonly MaintenanceWindow[];
  nowMs: number;
  /** The revision in the assignment's inventory ("" when nothing of it is applied here). */
  appliedRevision: string;
  /** The revision the desired set asks for. */
  desiredRevision: string;
}

export type HoldDecision = { hold: false } | { hold: true; message: string };

/**
 * Hold or go. Held: a new revision (another commit or digest than the inventory's, or an
 * assignment with nothing applied here yet) while no window is open. What is applied already is
 * never held: its drift correction and health re-reads are not new revisions.
 */
export function holdDecision(i: HoldInput): HoldDecision {
  if (i.desiredRevision === '' || i.desiredRevision === i.appliedRevision) return { hold: false };
  if (inMaintenanceWindow(i.windows, i.nowMs)) return { hold: false };
  const windows = i.windows.map(formatMaintenanceWindow).join(', ');
  const applied = i.appliedRevision
    ? `revision ${shortRevision(i.appliedRevision)} stays applied`
    : 'nothing of it is applied here yet';
  return {
    hold: true,
    message: `revision ${shortRevision(i.desiredRevision)} held until a maintenance window opens (${windows}); ${applied}`,
  };
}

/**
 * Milliseconds until just after the next minute boundary: windows open and close on whole
 * minutes (every time zone in use today is a whole number of minutes off UTC), so one check per
 * minute finds an opening at once without polling in between.
 */
export function msToNextMinute(nowMs: number): number {
  return 60_000 - (((nowMs % 60_000) + 60_000) % 60_000) + 50;
}
