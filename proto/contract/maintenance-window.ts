// Maintenance windows of a cluster: when new revisions may reach it ("Sat 02:00-04:00 UTC",
// "Mon-Fri 22:00-06:00 Europe/Berlin", "daily 01:00-02:00"). Outside every window a cluster
// keeps what it runs and holds new revisions until one opens. Pure; the hub validates windows,
// the agent decides with them, and both read them with this one parser.
import { ValidationError, hasControlChars, quote } from './validation.js';

export interface MaintenanceWindow {
  /** Days the window opens on, 0 = Sunday … 6 = Saturday, sorted. */
  days: number[];
  /** Minutes after local midnight. */
  start: number;
  /** Minutes after local midnight, 1..1440; before `start` when the window crosses midnight. */
  end: number;
  /** IANA time zone ("UTC" when none is given). */
  timeZone: string;
}

/** Most windows one cluster may have. */
export const MAX_MAINTENANCE_WINDOWS = 16;
/** Longest window text. */
export const MAX_WINDOW_LENGTH = 128;

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const DAY_LABELS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const SYNTAX = `use "DAYS HH:MM-HH:MM [TIME-ZONE]", e.g. "Sat 02:00-04:00 UTC", "Mon-Fri 22:00-06:00 Europe/Berlin", "daily 01:00-02:00"`;

const FULL_DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** 0..6 for "Mon" or "monday" (any case), -1 for anything else. */
function dayIndex(name: string): number {
  const lower = name.toLowerCase();
  return Math.max(DAY_NAMES.indexOf(lower), FULL_DAYS.indexOf(lower));
}

function parseDays(text: string, fail: (why: string) => never): number[] {
  if (/^(daily|\*)$/i.test(text)) return [0, 1, 2, 3, 4, 5, 6];
  const days = new Set<number>();
  for (const part of text.split(',')) {
    const [from, to, extra] = part.split('-');
    if (extra !== undefined) fail(`bad day range ${quote(part)}`);
    const a = dayIndex(from);
    const b = to === undefined ? a : dayIndex(to);
    if (a < 0 || b < 0)
      fail(`${quote(part)} is not a day (Mon, Tue, …, Sun, a range Mon-Fri, a list Sat,Sun, or daily)`);
    // Fri-Mon wraps over the weekend
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
  }
  return [...days].sort((x, y) => x - y);
}

function parseTime(text: string, allow24: boolean): number | undefined {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59) return undefined;
  if (h === 24 && min === 0 && allow24) return 1440;
  if (h > 23) return undefined;
  return h * 60 + min;
}

const zones = new Map<string, Intl.DateTimeFormat>();

/** A formatter giving the weekday and time in `timeZone`; throws RangeError for an unknown zone. */
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = zones.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    if (zones.size < 64) zones.set(timeZone, f);
  }
  return f;
}

/** Parses one window; throws a ValidationError naming `field`. */
export function parseMaintenanceWindow(text: string, field = 'window'): MaintenanceWindow {
  const fail = (why: string): never => {
    throw new ValidationError(field, `${why}: ${SYNTAX}`);
  };
  if (text.length > MAX_WINDOW_LENGTH) fail(`longer than ${MAX_WINDOW_LENGTH} characters`);
  if (hasControlChars(text)) fail('control characters');
  const parts = text.trim().split(/\s+/);
  if (parts.length < 2 || parts.length > 3) fail(`${quote(text)} is not a window`);
  const days = parseDays(parts[0], fail);
  const [from, to, extra] = parts[1].split('-');
  const start = parseTime(from ?? '', false);
  const end = to === undefined ? undefined : parseTime(to, true);
  if (extra !== undefined || start === undefined || end === undefined)
    fail(`${quote(parts[1])} is not HH:MM-HH:MM`);
  if (start === end) fail('a window must not be empty');
  const timeZone = parts[2] ?? 'UTC';
  try {
    formatter(timeZone);
  } catch {
    fail(`${quote(timeZone)} is not a time zone (UTC or an IANA name such as Europe/Berlin)`);
  }
  return { days, start: start!, end: end!, timeZone };
}

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** The window's text in one form ("Mon,Wed-Fri" style days, zero-padded times, the zone). */
export function formatMaintenanceWindow(w: MaintenanceWindow): string {
  let days: string;
  if (w.days.length === 7) days = 'daily';
  else {
    // runs of consecutive days as ranges
    const runs: string[] = [];
    for (let i = 0; i < w.days.length;) {
      let j = i;
      while (j + 1 < w.days.length && w.days[j + 1] === w.days[j] + 1) j++;
      runs.push(
        j - i >= 2
          ? `${DAY_LABELS[w.days[i]]}-${DAY_LABELS[w.days[j]]}`
          : w.days
              .slice(i, j + 1)
              .map((d) => DAY_LABELS[d])
              .join(','),
      );
      i = j + 1;
    }
    days = runs.join(',');
  }
  return `${days} ${hhmm(w.start)}-${hhmm(w.end)} ${w.timeZone}`;
}

/** Validates a cluster's windows; returns them in one form each, in the given order, duplicates dropped. */
export function checkMaintenanceWindows(field: string, windows: readonly string[] | undefined): string[] {
  const list = windows ?? [];
  if (list.length > MAX_MAINTENANCE_WINDOWS) {
    throw new ValidationError(field, `at most ${MAX_MAINTENANCE_WINDOWS} windows`);
  }
  const out: string[] = [];
  list.forEach((text, i) => {
    const normalized = formatMaintenanceWindow(parseMaintenanceWindow(text, `${field}[${i}]`));
    if (!out.includes(normalized)) out.push(normalized);
  });
  return out;
}

/** The weekday (0 = Sunday) and minute of the day at `atMs` in `timeZone`. */
export function localTime(atMs: number, timeZone: string): { day: number; minute: number } {
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const p of formatter(timeZone).formatToParts(atMs)) {
    if (p.type === 'weekday') day = DAY_NAMES.indexOf(p.value.toLowerCase());
    else if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'minute') minute = Number(p.value);
  }
  return { day, minute: hour * 60 + minute };
}

/** Whether the window is open at `atMs` (a window that crosses midnight belongs to the day it starts on). */
export function isWindowOpen(w: MaintenanceWindow, atMs: number): boolean {
  const { day, minute } = localTime(atMs, w.timeZone);
  if (w.start < w.end) return w.days.includes(day) && minute >= w.start && minute < w.end;
  return (w.days.includes(day) && minute >= w.start) || (w.days.includes((day + 6) % 7) && minute < w.end);
}

/** Whether new revisions may reach a cluster with these windows at `atMs` (always, when it has none). */
export function inMaintenanceWindow(windows: readonly MaintenanceWindow[], atMs: number): boolean {
  return windows.length === 0 || windows.some((w) => isWindowOpen(w, atMs));
}
