// Answers the hub's control requests (reconcile now, diff, tree) on this cluster's control
// subject. Every request gets exactly one AgentReply — an error reply for anything refused or
// failed — and nothing on the subject can crash the agent. The NATS user of an agent may answer
// only requests it received, once each (agentBusPermissions).
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  AgentReply,
  controlSubject,
  MAX_CONTROL_TIMEOUT_MS,
  type AssignmentStatus,
  type ObjectDiff,
  type ObjectNode,
} from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import { errorMessage } from '../errors.js';
import { parseControlRequest, type ControlRequest } from './control-request.js';

/** What the agent does for each kind of request. */
export interface ControlHandlers {
  /** Reconciles now; resolves with the status of the pass that included the newest desired set. */
  reconcile(tenant: string, assignment: string, signal: AbortSignal): Promise<AssignmentStatus>;
  diff(tenant: string, assignment: string): Promise<{ revision: string; diff: ObjectDiff[] }>;
  tree(tenant: string, assignment: string): Promise<{ revision: string; objects: ObjectNode[] }>;
}

export interface ControlResponderOptions {
  cluster: string;
  handlers: ControlHandlers;
  log: Logger;
  /** Requests worked on at once; more are answered "busy" (default 8). */
  maxInFlight?: number;
  now?: () => number;
}

export class ControlResponder {
  private sub: Subscription | undefined;
  private inFlight = 0;
  private readonly stopping = new AbortController();

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: ControlResponderOptions,
  ) {}

  start(): void {
    if (this.sub) return;
    this.sub = this.nc.subscribe(controlSubject(this.opts.cluster), {
      callback: (err, msg) => {
        if (err) this.opts.log.debug({ err: err.message }, 'control subscription');
        else void this.handle(msg);
      },
    });
  }

  stop(): void {
    this.stopping.abort();
    try {
      this.sub?.unsubscribe();
    } catch {
      // connection already closed
    }
    this.sub = undefined;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private async handle(msg: Msg): Promise<void> {
    if (!msg.reply) return; // a publish, not a request: nobody to answer
    let reply: AgentReply;
    if (this.inFlight >= (this.opts.maxInFlight ?? 8)) {
      reply = AgentReply.fromPartial({ error: 'the agent is busy with other control requests; try again' });
    } else {
      this.inFlight++;
      try {
        reply = await this.answer(parseControlRequest(msg.data));
      } catch (err) {
        this.opts.log.warn({ err: errorMessage(err) }, 'control request failed');
        reply = AgentReply.fromPartial({ error: errorMessage(err) });
      } finally {
        this.inFlight--;
      }
    }
    this.respond(msg, reply);
  }

  private async answer(req: ControlRequest): Promise<AgentReply> {
    const { tenant, assignment } = req;
    this.opts.log.info({ kind: req.kind, tenant, assignment }, 'control request');
    const { handlers } = this.opts;
    switch (req.kind) {
      case 'reconcile': {
        const waitMs = Math.min(req.deadlineMs - this.now(), MAX_CONTROL_TIMEOUT_MS);
        if (waitMs <= 0) throw new Error('the request arrived after its deadline');
        const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(waitMs)]);
        const status = await handlers.reconcile(tenant, assignment, signal);
        return AgentReply.fromPartial({ status, revision: status.desiredRevision });
      }
      case 'diff': {
        const { revision, diff } = await handlers.diff(tenant, assignment);
        return AgentReply.fromPartial({ revision, diff });
      }
      case 'tree': {
        const { revision, objects } = await handlers.tree(tenant, assignment);
        return AgentReply.fromPartial({ revision, objects });
      }
    }
  }

  /** Sends the reply; one too large for the bus becomes an error reply saying so. */
  private respond(msg: Msg, reply: AgentReply): void {
    let data = AgentReply.encode(reply).finish();
    const max = this.nc.info?.max_payload ?? 1024 * 1024;
    if (data.length > max - 1024) {
      data = AgentReply.encode(
        AgentReply.fromPartial({
          error: `the answer (${data.length} bytes) is larger than the bus carries (max_payload ${max})`,
        }),
      ).finish();
    }
    try {
      msg.respond(data);
    } catch (err) {
      this.opts.log.debug({ err: errorMessage(err) }, 'could not answer a control request');
    }
  }
}
