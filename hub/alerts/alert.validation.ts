// Validation and defaults of an alert (pure). The URL may carry a token (a Slack incoming webhook
// is one), so no error message ever echoes more than its scheme and host.
import { checkDnsLabel, hasControlChars, MAX_URL_LENGTH, quote, type Alert } from '../../proto/index.js';
import { ValidationError } from '../common/errors.js';
import {
  FLEET_EVENT_KINDS,
  FLEET_EVENT_SEVERITIES,
  isFleetEventKind,
  type FleetEventKind,
  type FleetEventSeverity,
} from '../events/fleet-event.js';

export const ALERT_TYPES = ['webhook', 'slack'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

/** The same event is sent at most once per this window unless the alert says otherwise (Flux's 5 min). */
export const DEFAULT_RATE_LIMIT_SECONDS = 300;
export const MAX_RATE_LIMIT_SECONDS = 86_400;
export const MAX_THRESHOLD = 1000;
export const MAX_WINDOW_SECONDS = 7 * 86_400;
export const MAX_ALERT_ASSIGNMENTS = 100;
/** A webhook secret: an HMAC key, at most this many bytes. */
export const MAX_SECRET_BYTES = 4096;

/** What is stored of an alert (url and secret in clear here; the repository seals them). */
export interface AlertSpec {
  tenant: string;
  name: string;
  type: AlertType;
  url: string;
  secret: string;
  events: FleetEventKind[];
  assignments: string[];
  severity: FleetEventSeverity;
  threshold: number;
  windowSeconds: number;
  rateLimitSeconds: number;
}

/** scheme://host[:port] of a URL: what may be shown and logged (never its path, query or user). */
export function urlOrigin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Throws a ValidationError naming `field` unless `url` is an absolute http(s) URL with a host. */
export function checkAlertUrl(field: string, url: string): string {
  const bad = (why: string): never => {
    throw new ValidationError(field, why);
  };
  if (!url) bad("required: the receiver's http(s) URL");
  if (url.length > MAX_URL_LENGTH) bad(`is ${url.length} characters long (at most ${MAX_URL_LENGTH})`);
  if (/\s/.test(url) || hasControlChars(url)) bad('must not contain spaces or control characters');
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') {
    // the scheme alone is echoed: the rest may hold a token
    bad(`must be an http or https URL${scheme ? ` (not ${quote(scheme.slice(0, 20))}:)` : ''}`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return bad('is not a valid URL (e.g. https://hooks.example.com/path)');
  }
  if (!parsed.hostname || !/^https?:\/\/[^/?#]/i.test(url))
    bad('has no host (e.g. https://hooks.example.com/path)');
  if (parsed.username || parsed.password)
    bad('must not contain user info: put a token in the path or use a secret');
  return url;
}

function checkList<T extends string>(
  field: string,
  values: readonly string[] | undefined,
  max: number,
  check: (field: string, v: string) => T,
): T[] {
  const list = values ?? [];
  if (list.length > max) throw new ValidationError(field, `${list.length} entries (at most ${max})`);
  const out = new Set<T>();
  list.forEach((v, i) => out.add(check(`${field}[${i}]`, v)));
  return [...out].sort();
}

function wholeNumber(field: string, value: number | undefined, max: number): number {
  const n = value ?? 0;
  if (!Number.isSafeInteger(n) || n < 0 || n > max) {
    throw new ValidationError(
      field,
      `must be a whole number from 0 to ${max}, got ${String(n).slice(0, 20)}`,
    );
  }
  return n;
}

export function validateAlert(input: Partial<Alert> | null | undefined, secret = ''): AlertSpec {
  if (!input) throw new ValidationError('alert', 'required');
  const tenant = input.tenant ? checkDnsLabel('alert.tenant', input.tenant) : '';
  const name = checkDnsLabel('alert.name', input.name ?? '');
  const type = input.type ?? '';
  if (!(ALERT_TYPES as readonly string[]).includes(type)) {
    throw new ValidationError('alert.type', `${quote(type)}: use one of ${ALERT_TYPES.join(', ')}`);
  }
  const url = checkAlertUrl('alert.url', input.url ?? '');
  const events = checkList('alert.events', input.events, FLEET_EVENT_KINDS.length, (field, v) => {
    if (!isFleetEventKind(v)) {
      throw new ValidationError(
        field,
        `${quote(v)} is not an event kind: use one of ${FLEET_EVENT_KINDS.join(', ')}`,
      );
    }
    return v;
  });
  const assignments = checkList('alert.assignments', input.assignments, MAX_ALERT_ASSIGNMENTS, checkDnsLabel);
  const severity = input.severity || 'info';
  if (!(FLEET_EVENT_SEVERITIES as readonly string[]).includes(severity)) {
    throw new ValidationError(
      'alert.severity',
      `${quote(severity)}: use one of ${FLEET_EVENT_SEVERITIES.join(', ')} (the least severe event sent)`,
    );
  }
  const threshold = wholeNumber('alert.threshold', input.threshold, MAX_THRESHOLD);
  const windowSeconds = wholeNumber('alert.window_seconds', input.windowSeconds, MAX_WINDOW_SECONDS);
  if (threshold > 1 && windowSeconds === 0) {
    throw new ValidationError(
      'alert.window_seconds',
      `required with a threshold: N failures within what time?`,
    );
  }
  if (threshold <= 1 && windowSeconds > 0) {
    throw new ValidationError('alert.window_seconds', 'only with a threshold of 2 or more');
  }
  const rateLimitSeconds =
    wholeNumber('alert.rate_limit_seconds', input.rateLimitSeconds, MAX_RATE_LIMIT_SECONDS) ||
    DEFAULT_RATE_LIMIT_SECONDS;
  if (Buffer.byteLength(secret) > MAX_SECRET_BYTES) {
    throw new ValidationError(
      'secret',
      `has ${Buffer.byteLength(secret)} bytes (at most ${MAX_SECRET_BYTES})`,
    );
  }
  if (secret && type !== 'webhook') {
    throw new ValidationError(
      'secret',
      'only a webhook alert signs its body (a slack URL carries its own token)',
    );
  }
  return {
    tenant,
    name,
    type: type as AlertType,
    url,
    secret,
    events,
    assignments,
    severity: severity as FleetEventSeverity,
    threshold,
    windowSeconds,
    rateLimitSeconds,
  };
}
