import { describe, expect, it } from '@jest/globals';
import { parseMaintenanceWindow } from '../../proto/index.js';
import { holdDecision, msToNextMinute } from './maintenance-hold.js';

const OLD = `main@sha1:${'a'.repeat(40)}`;
const NEW = `main@sha1:${'b'.repeat(40)}`;
// Saturday 2026-01-03 03:00 UTC, and the Monday after at 12:00 UTC
const SAT_0300 = Date.UTC(2026, 0, 3, 3, 0);
const MON_1200 = Date.UTC(2026, 0, 5, 12, 0);
const sat = [parseMaintenanceWindow('Sat 02:00-04:00 UTC')];

describe('holdDecision', () => {
  it('never holds without windows', () => {
    expect(
      holdDecision({ windows: [], nowMs: MON_1200, appliedRevision: OLD, desiredRevision: NEW }),
    ).toEqual({
      hold: false,
    });
  });

  it('lets a new revision through inside a window', () => {
    expect(
      holdDecision({ windows: sat, nowMs: SAT_0300, appliedRevision: OLD, desiredRevision: NEW }),
    ).toEqual({
      hold: false,
    });
  });

  it('holds a new revision outside every window, naming both revisions and the windows', () => {
    expect(
      holdDecision({ windows: sat, nowMs: MON_1200, appliedRevision: OLD, desiredRevision: NEW }),
    ).toEqual({
      hold: true,
      message:
        'revision main@sha1:bbbbbbbb held until a maintenance window opens (Sat 02:00-04:00 UTC); revision main@sha1:aaaaaaaa stays applied',
    });
  });

  it('holds a brand-new assignment too (nothing applied is a new revision)', () => {
    const d = holdDecision({ windows: sat, nowMs: MON_1200, appliedRevision: '', desiredRevision: NEW });
    expect(d).toEqual({
      hold: true,
      message: expect.stringContaining(
        'held until a maintenance window opens (Sat 02:00-04:00 UTC); nothing of it is applied here yet',
      ),
    });
  });

  it('never holds what is applied (drift correction and health go on)', () => {
    expect(
      holdDecision({ windows: sat, nowMs: MON_1200, appliedRevision: OLD, desiredRevision: OLD }),
    ).toEqual({
      hold: false,
    });
  });

  it('reads windows in their own time zone, across midnight', () => {
    const berlin = [parseMaintenanceWindow('Mon-Fri 22:00-06:00 Europe/Berlin')];
    // Tuesday 2026-01-06 04:30 UTC is 05:30 in Berlin: inside Monday's window
    const inside = Date.UTC(2026, 0, 6, 4, 30);
    // 05:30 UTC is 06:30 in Berlin: closed
    const outside = Date.UTC(2026, 0, 6, 5, 30);
    expect(
      holdDecision({ windows: berlin, nowMs: inside, appliedRevision: OLD, desiredRevision: NEW }).hold,
    ).toBe(false);
    expect(
      holdDecision({ windows: berlin, nowMs: outside, appliedRevision: OLD, desiredRevision: NEW }).hold,
    ).toBe(true);
  });

  it('opens with the first minute of a window and closes with its last', () => {
    const d = (nowMs: number) =>
      holdDecision({ windows: sat, nowMs, appliedRevision: OLD, desiredRevision: NEW }).hold;
    expect(d(Date.UTC(2026, 0, 3, 1, 59, 59, 999))).toBe(true);
    expect(d(Date.UTC(2026, 0, 3, 2, 0))).toBe(false);
    expect(d(Date.UTC(2026, 0, 3, 3, 59, 59, 999))).toBe(false);
    expect(d(Date.UTC(2026, 0, 3, 4, 0))).toBe(true);
  });
});

describe('msToNextMinute', () => {
  it('lands just after the next minute boundary', () => {
    expect(msToNextMinute(Date.UTC(2026, 0, 3, 1, 59, 30))).toBe(30_050);
    expect(msToNextMinute(Date.UTC(2026, 0, 3, 2, 0))).toBe(60_050);
    const now = Date.UTC(2026, 0, 3, 1, 59, 59, 999);
    expect(new Date(now + msToNextMinute(now)).getUTCMinutes()).toBe(0);
  });
});
