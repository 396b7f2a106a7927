// Delivery of alert messages: an in-memory outbox per alert, sent in order, one request in flight
// per alert and at most `concurrency` across all alerts. Network errors, 5xx and 429 are retried
// with exponential backoff and jitter (429/503's Retry-After is honoured); other answers and
// messages older than `maxAgeMs` or past `maxAttempts` are given up with a log line. enqueue() is
// synchronous and never waits: a full outbox drops its oldest message (logged), so a receiver
// that is down costs a bounded amount of memory and blocks nothing but its own outbox.
import type { Logger } from '../../lib/log.js';
import { sleep } from '../../lib/backoff.js';
import { jitter, Semaphore } from '../../lib/limit.js';
import { scrubSecrets } from '../../lib/redact.js';
import { SIGNATURE_HEADER, signature } from './alert-payload.js';

/** Where one alert's messages go (the URL and secret in clear: never logged). */
export interface AlertTarget {
  url: string;
  /** scheme://host: what logs and errors show */
  origin: string;
  secret: string;
}

export interface DeliveryResult {
  ok: boolean;
  atMs: number;
  /** Why the attempt failed ("…; retrying …" or "…; gave up …"), "" when delivered. */
  error: string;
}

export interface DispatcherOptions {
  userAgent: string;
  maxQueuePerAlert?: number;
  concurrency?: number;
  maxAttempts?: number;
  maxAgeMs?: number;
  timeoutMs?: number;
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** Longest Retry-After honoured (beyond it: the message is given up). */
  maxRetryAfterMs?: number;
  /** Told about every delivery, every failed attempt and every message given up (to show in get/list). */
  onResult?: (alertKey: string, result: DeliveryResult) => void;
}

interface Message {
  body: string;
  enqueuedAtMs: number;
  attempts: number;
}

interface Outbox {
  target: AlertTarget;
  queue: Message[];
  running: boolean;
  dropped: number;
}

class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Retry-After as ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** The wait before attempt n+1 (n >= 1): exponential, capped, with jitter over its upper half. */
export function backoffDelayMs(attempts: number, firstDelayMs: number, maxDelayMs: number): number {
  const base = Math.min(maxDelayMs, firstDelayMs * 2 ** Math.max(0, attempts - 1));
  return Math.ceil(base / 2) + jitter(Math.ceil(base / 2));
}

export class AlertDispatcher {
  private readonly outboxes = new Map<string, Outbox>();
  private readonly limit: Semaphore;
  private readonly stop = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private readonly o: Required<Omit<DispatcherOptions, 'onResult'>> & Pick<DispatcherOptions, 'onResult'>;

  constructor(
    private readonly log: Logger,
    options: DispatcherOptions,
  ) {
    this.o = {
      maxQueuePerAlert: 100,
      concurrency: 4,
      maxAttempts: 8,
      maxAgeMs: 15 * 60_000,
      timeoutMs: 10_000,
      firstDelayMs: 1000,
      maxDelayMs: 60_000,
      maxRetryAfterMs: 10 * 60_000,
      ...options,
    };
    this.limit = new Semaphore(this.o.concurrency);
  }

  /** Messages waiting (or in flight) for an alert. */
  pending(alertKey: string): number {
    return this.outboxes.get(alertKey)?.queue.length ?? 0;
  }

  /** Queues a message for an alert; never waits. */
  enqueue(alertKey: string, target: AlertTarget, body: string): void {
    if (this.stop.signal.aborted) return;
    let box = this.outboxes.get(alertKey);
    if (!box) {
      box = { target, queue: [], running: false, dropped: 0 };
      this.outboxes.set(alertKey, box);
    }
    box.target = target;
    // the head may be in flight: drop the oldest after it
    if (box.queue.length >= this.o.maxQueuePerAlert) {
      box.queue.splice(box.running ? 1 : 0, 1);
      box.dropped++;
      this.log.warn(
        { alert: alertKey, receiver: target.origin, queued: box.queue.length, dropped: box.dropped },
        'alert outbox full (the receiver is slow or down): dropped the oldest message',
      );
    }
    box.queue.push({ body, enqueuedAtMs: Date.now(), attempts: 0 });
    if (!box.running) this.start(alertKey, box);
  }

  /** Forgets an alert's outbox (the alert was deleted); a request in flight finishes. */
  forget(alertKey: string): void {
    const box = this.outboxes.get(alertKey);
    if (box) box.queue.length = 0;
    this.outboxes.delete(alertKey);
  }

  private start(alertKey: string, box: Outbox): void {
    box.running = true;
    const run = this.drain(alertKey, box).finally(() => {
      box.running = false;
      this.running.delete(run);
      // a message enqueued while the loop ended
      if (box.queue.length > 0 && this.outboxes.get(alertKey) === box && !this.stop.signal.aborted)
        this.start(alertKey, box);
    });
    this.running.add(run);
  }

  private async drain(alertKey: string, box: Outbox): Promise<void> {
    const signal = this.stop.signal;
    while (box.queue.length > 0 && !signal.aborted) {
      const m = box.queue[0];
      m.attempts++;
      let retryIn: number | undefined;
      let error = '';
      try {
        await this.limit.run(() => this.post(box.target, m.body));
      } catch (err) {
        error = scrubSecrets((err as Error).message, [box.target.url, box.target.secret]);
        if (err instanceof RetryableError) {
          retryIn = err.retryAfterMs ?? backoffDelayMs(m.attempts, this.o.firstDelayMs, this.o.maxDelayMs);
          const age = Date.now() - m.enqueuedAtMs;
          if (
            m.attempts >= this.o.maxAttempts ||
            retryIn > this.o.maxRetryAfterMs ||
            age + retryIn > this.o.maxAgeMs
          ) {
            error = `${error}; gave up after ${m.attempts} attempt${m.attempts === 1 ? '' : 's'}`;
            retryIn = undefined;
          }
        }
      }
      if (signal.aborted) return;
      if (retryIn !== undefined) {
        // shown by get/list while it retries: the receiver's trouble is visible before a give-up
        this.o.onResult?.(alertKey, {
          ok: false,
          atMs: Date.now(),
          error: `${error}; retrying (attempt ${m.attempts} failed)`,
        });
        this.log.info(
          {
            alert: alertKey,
            receiver: box.target.origin,
            attempt: m.attempts,
            retryInMs: retryIn,
            err: error,
          },
          'alert delivery failed; retrying',
        );
        await sleep(retryIn, signal);
        continue;
      }
      if (box.queue[0] === m) box.queue.shift();
      if (error) {
        this.log.warn({ alert: alertKey, receiver: box.target.origin, err: error }, 'alert message given up');
      } else {
        this.log.debug(
          { alert: alertKey, receiver: box.target.origin, attempt: m.attempts },
          'alert delivered',
        );
      }
      this.o.onResult?.(alertKey, { ok: !error, atMs: Date.now(), error });
    }
  }

  /** One POST; throws RetryableError for what may pass later, Error for what will not. */
  private async post(target: AlertTarget, body: string): Promise<void> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': this.o.userAgent,
    };
    if (target.secret) headers[SIGNATURE_HEADER] = signature(target.secret, body);
    let res: Response;
    try {
      res = await fetch(target.url, {
        method: 'POST',
        headers,
        body,
        // a redirect would send the body (and its signature) somewhere nobody configured
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.o.timeoutMs), this.stop.signal]),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why =
        e.name === 'TimeoutError'
          ? `no answer within ${this.o.timeoutMs / 1000}s`
          : (e.cause?.code ?? e.cause?.message ?? e.message);
      throw new RetryableError(`${target.origin}: ${why}`);
    }
    // the body is not needed: release the connection
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return;
    const what = `${target.origin} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    if (res.status === 429 || res.status >= 500) {
      throw new RetryableError(what, parseRetryAfter(res.headers.get('retry-after'), Date.now()));
    }
    throw new Error(`${what}: not retried (check the alert's URL${target.secret ? ' and secret' : ''})`);
  }

  /** Stops every outbox: requests in flight are aborted, waiting messages dropped. */
  async close(): Promise<void> {
    this.stop.abort();
    await Promise.allSettled([...this.running]);
    this.outboxes.clear();
  }
}
