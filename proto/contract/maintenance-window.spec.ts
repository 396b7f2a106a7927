import { describe, expect, it } from '@jest/globals';
import {
  checkMaintenanceWindows,
  formatMaintenanceWindow,
  inMaintenanceWindow,
  isWindowOpen,
  parseMaintenanceWindow,
} from './maintenance-window.js';
import { ValidationError } from './validation.js';

const at = (iso: string) => Date.parse(iso);

describe('maintenance windows', () => {
  it('parses days, times and zones', () => {
    expect(parseMaintenanceWindow('Sat 02:00-04:00 UTC')).toEqual({
      days: [6],
      start: 120,
      end: 240,
      timeZone: 'UTC',
    });
    expect(parseMaintenanceWindow('mon-fri 22:00-06:00 Europe/Berlin')).toEqual({
      days: [1, 2, 3, 4, 5],
      start: 1320,
      end: 360,
      timeZone: 'Europe/Berlin',
    });
    expect(parseMaintenanceWindow('daily 1:00-24:00').days).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(parseMaintenanceWindow('Fri-Mon 00:00-01:00').days).toEqual([0, 1, 5, 6]);
    expect(parseMaintenanceWindow('Saturday,Sun 00:00-01:00').days).toEqual([0, 6]);
  });

  it('prints one form that parses back', () => {
    for (const text of [
      'Sat 02:00-04:00 UTC',
      'Mon-Fri 22:00-06:00 Europe/Berlin',
      'daily 1:00-2:00',
      'Mon,Wed,Thu,Sat 00:00-24:00',
    ]) {
      const w = parseMaintenanceWindow(text);
      expect(parseMaintenanceWindow(formatMaintenanceWindow(w))).toEqual(w);
    }
    expect(formatMaintenanceWindow(parseMaintenanceWindow('Mon,Tue,Wed,Fri 1:00-2:00'))).toBe(
      'Mon-Wed,Fri 01:00-02:00 UTC',
    );
    expect(checkMaintenanceWindows('w', ['sat 2:00-4:00', 'Sat 02:00-04:00 UTC'])).toEqual([
      'Sat 02:00-04:00 UTC',
    ]);
  });

  it('is open inside the window only, across midnight and in the zone given', () => {
    const sat = parseMaintenanceWindow('Sat 02:00-04:00 UTC');
    expect(isWindowOpen(sat, at('2026-11-28T02:00:00Z'))).toBe(true); // a Saturday
    expect(isWindowOpen(sat, at('2026-11-28T03:59:00Z'))).toBe(true);
    expect(isWindowOpen(sat, at('2026-11-28T04:00:00Z'))).toBe(false);
    expect(isWindowOpen(sat, at('2026-11-29T02:30:00Z'))).toBe(false); // Sunday
    const night = parseMaintenanceWindow('Fri 22:00-06:00 UTC');
    expect(isWindowOpen(night, at('2026-11-27T23:00:00Z'))).toBe(true); // Friday night
    expect(isWindowOpen(night, at('2026-11-28T05:00:00Z'))).toBe(true); // Saturday morning: Friday's window
    expect(isWindowOpen(night, at('2026-11-26T23:00:00Z'))).toBe(false); // Thursday night
    const berlin = parseMaintenanceWindow('Sat 02:00-04:00 Europe/Berlin'); // UTC+1 in November
    expect(isWindowOpen(berlin, at('2026-11-28T01:30:00Z'))).toBe(true);
    expect(isWindowOpen(berlin, at('2026-11-28T03:30:00Z'))).toBe(false);
    expect(inMaintenanceWindow([], at('2026-11-28T12:00:00Z'))).toBe(true);
    expect(inMaintenanceWindow([sat, night], at('2026-11-28T12:00:00Z'))).toBe(false);
  });

  it('refuses bad windows with the field and the syntax', () => {
    for (const bad of [
      '',
      'Sat',
      'Sat 02:00',
      'Sat 2-4',
      'Sat 25:00-26:00',
      'Sat 02:60-03:00',
      'Sat 02:00-02:00',
      'Someday 02:00-04:00',
      'Sat 02:00-04:00 Mars/Olympus',
      'Sat 02:00-04:00 UTC extra',
      'Sat\u0000 02:00-04:00',
      'Mon-Tue-Wed 01:00-02:00',
      'x'.repeat(200),
    ]) {
      expect(() => checkMaintenanceWindows('cluster.maintenanceWindows', [bad])).toThrow(ValidationError);
      expect(() => checkMaintenanceWindows('cluster.maintenanceWindows', [bad])).toThrow(
        /^cluster\.maintenanceWindows\[0\]: .*DAYS HH:MM-HH:MM/,
      );
    }
    expect(() =>
      checkMaintenanceWindows(
        'w',
        Array.from({ length: 17 }, () => 'daily 01:00-02:00'),
      ),
    ).toThrow(/at most 16/);
  });
});
