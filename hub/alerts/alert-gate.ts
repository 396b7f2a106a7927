// What an alert actually sends of the events routed to it (pure; `now` is passed in):
// - threshold: with threshold N >= 2 and a window W, assignment.failed is sent only once N of them
//   for the same assignment on the same cluster came within W; assignment.recovered is then sent
//   only when a failure alert was sent for it (by this hub since it started).
// - de-duplication: the same event (kind, tenant, assignment, cluster, message) is sent at most
//   once per rate-limit window; the repeats are counted and the next one sent says "(and N more)".
// - rate limit: at most MAX_SENDS_PER_MINUTE sends per alert per minute; the excess is dropped,
//   counted, and the next message sent says how many.
import type { FleetEvent } from '../events/fleet-event.js';

export const MAX_SENDS_PER_MINUTE = 20;
/** Keys remembered per alert at most (dedup and threshold): an unbounded fleet never grows memory unboundedly. */
export const MAX_TRACKED_KEYS = 10_000;

export interface GateConfig {
  threshold: number;
  windowSeconds: number;
  rateLimitSeconds: number;
}

export interface GateDecision {
  send: boolean;
  /** The message to send (the event's, with the counts of what was held back). */
  message: string;
  /** Why it is not sent (for counters and debug logs). */
  held?: 'threshold' | 'duplicate' | 'rate-limit' | 'no-failure-sent';
}

const subjectKey = (e: FleetEvent) => JSON.stringify([e.tenant ?? '', e.assignment ?? '', e.cluster ?? '']);
const eventKey = (e: FleetEvent) =>
  JSON.stringify([e.kind, e.tenant ?? '', e.assignment ?? '', e.cluster ?? '', e.message]);

/** Drops the oldest entries (insertion order) beyond `max`. */
function bound<K, V>(m: Map<K, V>, max: number): void {
  for (const k of m.keys()) {
    if (m.size <= max) return;
    m.delete(k);
  }
}

export class AlertGate {
  /** subject → times of recent failures (threshold) */
  private readonly failures = new Map<string, number[]>();
  /** subjects whose failure was alerted (recovered is sent for these only, with a threshold) */
  private readonly failureSent = new Set<string>();
  /** event key → when it was last sent, and the repeats since */
  private readonly sent = new Map<string, { atMs: number; repeats: number }>();
  private readonly sendTimes: number[] = [];
  private rateLimited = 0;

  constructor(private config: GateConfig) {}

  /** Counts survive a config change (the alert is the same); the new limits apply from now on. */
  reconfigure(config: GateConfig): void {
    this.config = config;
  }

  decide(event: FleetEvent, nowMs: number): GateDecision {
    const { threshold, windowSeconds, rateLimitSeconds } = this.config;
    const subject = subjectKey(event);
    if (threshold >= 2) {
      if (event.kind === 'assignment.failed') {
        const since = nowMs - windowSeconds * 1000;
        const times = (this.failures.get(subject) ?? []).filter((t) => t > since);
        times.push(nowMs);
        this.failures.delete(subject);
        this.failures.set(subject, times.slice(-threshold));
        bound(this.failures, MAX_TRACKED_KEYS);
        if (times.length < threshold) return { send: false, message: event.message, held: 'threshold' };
      } else if (event.kind === 'assignment.recovered') {
        this.failures.delete(subject);
        if (!this.failureSent.has(subject))
          return { send: false, message: event.message, held: 'no-failure-sent' };
      }
    }

    const key = eventKey(event);
    const last = this.sent.get(key);
    if (last && nowMs - last.atMs < rateLimitSeconds * 1000) {
      last.repeats++;
      return { send: false, message: event.message, held: 'duplicate' };
    }

    while (this.sendTimes.length > 0 && this.sendTimes[0] <= nowMs - 60_000) this.sendTimes.shift();
    if (this.sendTimes.length >= MAX_SENDS_PER_MINUTE) {
      this.rateLimited++;
      return { send: false, message: event.message, held: 'rate-limit' };
    }

    // sent: the counts of what was held back ride along
    let message = event.message;
    if (last && last.repeats > 0) message += ` (and ${last.repeats} more)`;
    if (this.rateLimited > 0) {
      message += ` (${this.rateLimited} other event${this.rateLimited === 1 ? '' : 's'} dropped by the rate limit)`;
      this.rateLimited = 0;
    }
    this.sendTimes.push(nowMs);
    this.sent.delete(key);
    this.sent.set(key, { atMs: nowMs, repeats: 0 });
    bound(this.sent, MAX_TRACKED_KEYS);
    if (threshold >= 2) {
      if (event.kind === 'assignment.failed') {
        this.failureSent.add(subject);
        this.failures.delete(subject);
        if (this.failureSent.size > MAX_TRACKED_KEYS)
          this.failureSent.delete(this.failureSent.values().next().value!);
      } else if (event.kind === 'assignment.recovered') this.failureSent.delete(subject);
    }
    return { send: true, message };
  }
}
