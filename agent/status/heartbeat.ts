// Heartbeat{cluster, agent_version, observed_generation, sent_at_ms, desired_set_error} on the cluster's heartbeat
// subject: right after (re)connecting and every interval. Fire-and-forget core publishes (the
// status stream captures the subject); a missed beat is simply superseded by the next.
import type { NatsConnection } from '@nats-io/transport-node';
import { Heartbeat, heartbeatSubject } from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';

export interface HeartbeaterOptions {
  cluster: string;
  agentVersion: string;
  intervalMs: number;
  observedGeneration: () => number;
  /** Why the newest desired set was refused, if it was. */
  desiredSetError?: () => string | undefined;
  log: Logger;
}

export class Heartbeater {
  private nc: NatsConnection | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly subject: string;

  constructor(private readonly opts: HeartbeaterOptions) {
    this.subject = heartbeatSubject(opts.cluster);
  }

  /** Beats on this connection now and every interval (undefined: stop beating). */
  attach(nc: NatsConnection | undefined): void {
    this.nc = nc;
    if (!nc) return;
    this.beat();
    if (!this.timer) {
      this.timer = setInterval(() => this.beat(), this.opts.intervalMs);
      this.timer.unref?.();
    }
  }

  beat(): void {
    const nc = this.nc;
    if (!nc || nc.isClosed() || nc.isDraining()) return;
    const hb: Heartbeat = {
      cluster: this.opts.cluster,
      agentVersion: this.opts.agentVersion,
      observedGeneration: this.opts.observedGeneration(),
      sentAtMs: Date.now(),
      desiredSetError: this.opts.desiredSetError?.() ?? '',
    };
    try {
      nc.publish(this.subject, Heartbeat.encode(hb).finish());
    } catch (err) {
      this.opts.log.debug({ err: (err as Error).message }, 'heartbeat not sent');
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.nc = undefined;
  }
}
