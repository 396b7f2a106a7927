// The hub's side of control requests to agents (the bus I/O only): one NATS request on the
// cluster's control subject, one AgentReply back, or a timeout.
import { Inject, Injectable } from '@nestjs/common';
import { RequestError, TimeoutError } from '@nats-io/transport-node';
import { AgentReply, AgentRequest, controlSubject } from '../../proto/index.js';
import { UnavailableError } from '../common/errors.js';
import { BusService } from '../bus/bus.service.js';

export type AgentAnswer =
  | { reply: AgentReply }
  /** Nobody answered in time. */
  | { timedOut: true }
  /** The cluster's agent is not connected (or cannot receive control requests). */
  | { error: string };

@Injectable()
export class AgentRequestsRepository {
  constructor(@Inject(BusService) private readonly bus: BusService) {}

  async request(cluster: string, req: AgentRequest, timeoutMs: number): Promise<AgentAnswer> {
    const conn = this.bus.current;
    if (!conn || !this.bus.isOnline)
      throw new UnavailableError('the hub is not connected to NATS; try again');
    try {
      const msg = await conn.nc.request(controlSubject(cluster), AgentRequest.encode(req).finish(), {
        timeout: timeoutMs,
      });
      try {
        return { reply: AgentReply.decode(msg.data) };
      } catch {
        return { error: `the agent of cluster ${cluster} sent an answer that is not an AgentReply` };
      }
    } catch (err) {
      if (err instanceof TimeoutError || (err as Error).cause instanceof TimeoutError)
        return { timedOut: true };
      if (err instanceof RequestError && err.isNoResponders())
        return {
          error: `the agent of cluster ${cluster} is not connected to the bus (or joined before control requests: join it again)`,
        };
      throw err;
    }
  }
}
