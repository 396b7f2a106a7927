// Publishes assignment status to the hub's status stream with JetStream (acknowledged, deduped by
// msgID). Reconciling never waits for it: report() records the latest status per assignment and
// returns; a background flush sends what is pending and keeps anything that failed (NATS down,
// stream missing) to resend later, the newest status per assignment only.
import type { JetStreamClient } from '@nats-io/jetstream';
import { StatusReport, assignmentStatusSubject, type AssignmentStatus } from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';

export interface StatusPublisherOptions {
  cluster: string;
  log: Logger;
  /** Ack timeout of one publish (default 5 s). */
  timeoutMs?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export class StatusPublisher {
  private js: JetStreamClient | undefined;
  private readonly pending = new Map<string, AssignmentStatus>();
  private flushing: Promise<void> | undefined;
  private again = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay: number;
  private stopped = false;
  private readonly subject: string;

  constructor(private readonly opts: StatusPublisherOptions) {
    this.subject = assignmentStatusSubject(opts.cluster);
    this.retryDelay = opts.retryMinMs ?? 500;
  }

  /** Uses this JetStream client from now on (undefined: not connected). */
  attach(js: JetStreamClient | undefined): void {
    this.js = js;
    if (js) this.kick();
  }

  /** Statuses not yet acknowledged by the stream. */
  get backlog(): number {
    return this.pending.size;
  }

  report(status: AssignmentStatus): void {
    if (this.stopped) return;
    this.pending.set(`${status.tenant}/${status.assignment}`, status);
    this.kick();
  }

  /** Sends what is pending now (after a reconnect); resolves when this round is done. */
  kick(): Promise<void> {
    if (this.stopped || !this.js) return Promise.resolve();
    // a status reported while a round is finishing must not wait for the next report
    this.again = true;
    if (!this.flushing) {
      this.flushing = (async () => {
        while (this.again && !this.stopped) {
          this.again = false;
          if (!(await this.flush())) break; // failed: the retry timer takes over
        }
      })().finally(() => {
        this.flushing = undefined;
      });
    }
    return this.flushing;
  }

  /** Stops retrying; tries once more (briefly) to send what is pending. */
  async stop(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.stopped = true;
    await this.flushing;
    if (this.js && this.pending.size > 0) await this.flush(1000).catch(() => undefined);
  }

  /** Sends the pending statuses in turn; false when one failed (a retry is scheduled). */
  private async flush(timeoutMs = this.opts.timeoutMs ?? 5000): Promise<boolean> {
    for (const [key, status] of [...this.pending.entries()]) {
      const js = this.js;
      if (!js) return false;
      try {
        await js.publish(this.subject, StatusReport.encode({ status }).finish(), {
          msgID: `${this.opts.cluster}/${key}/${status.state}/${status.startedAtMs}/${status.finishedAtMs}`,
          timeout: timeoutMs,
        });
        // a newer status may have come in while this one was on its way
        if (this.pending.get(key) === status) this.pending.delete(key);
      } catch (err) {
        this.opts.log.debug(
          { err: (err as Error).message, backlog: this.pending.size },
          'status publish failed; will resend',
        );
        this.scheduleRetry();
        return false;
      }
    }
    this.retryDelay = this.opts.retryMinMs ?? 500;
    if (this.pending.size > 0) this.again = true;
    return true;
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retryDelay * 2, this.opts.retryMaxMs ?? 15_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.kick();
    }, delay);
    this.retryTimer.unref?.();
  }
}
