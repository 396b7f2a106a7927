// What the hub does on the bus, done by hand for agent tests: the desired-sets KV bucket, the
// status stream, puts of DesiredSet values, and a reader of StatusReports from the stream.
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  AgentReply,
  AgentRequest,
  AssignmentState,
  controlSubject,
  DESIRED_BUCKET,
  DesiredSet,
  Heartbeat,
  STATUS_STREAM,
  STATUS_SUBJECTS,
  StatusReport,
  assignmentStatusSubject,
  desiredKey,
  heartbeatSubject,
  type AssignmentStatus,
  type DeepPartial,
} from '../../../proto/index.js';
import { eventually } from '../../env/index.js';

export class HubDouble {
  readonly statuses: AssignmentStatus[] = [];
  readonly heartbeats: Heartbeat[] = [];
  private nc!: NatsConnection;
  private js!: JetStreamClient;
  private kv: KV | undefined;
  private stopped = false;
  private generation = 0;

  constructor(
    private readonly natsUrl: string,
    readonly cluster: string,
  ) {}

  async connect(): Promise<void> {
    this.nc = await connect({ servers: this.natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    this.js = jetstream(this.nc, { timeout: 5000 });
    this.nc.subscribe(heartbeatSubject(this.cluster), {
      callback: (err, m) => {
        if (!err) this.heartbeats.push(Heartbeat.decode(m.data));
      },
    });
  }

  /** Creates the bucket and the status stream, as the hub does on start. */
  async createBus(): Promise<void> {
    const jsm = await jetstreamManager(this.nc, { timeout: 5000 });
    await jsm.streams
      .add({ name: STATUS_STREAM, subjects: [STATUS_SUBJECTS], max_age: 3600 * 1e9 })
      .catch(async (err) => {
        if (!/already in use|exists/i.test((err as Error).message)) throw err;
      });
    this.kv = await new Kvm(this.js).create(DESIRED_BUCKET, { history: 1, allow_direct: true });
    void this.readStatuses();
  }

  /** Reads the status stream from the start with an ordered consumer (it survives restarts). */
  private async readStatuses(): Promise<void> {
    const consumer = await this.js.consumers.get(STATUS_STREAM, {
      filter_subjects: assignmentStatusSubject(this.cluster),
    });
    // the suites restart nats-server: a pull pending on the old server is lost, and the consumer
    // pulls again only after missing heartbeats (half of `expires`, 30 s by default) — keep it short
    const iter = await consumer.consume({ expires: 2000 });
    for await (const m of iter) {
      if (this.stopped) break;
      const s = StatusReport.decode(m.data).status;
      if (s) this.statuses.push(s);
    }
  }

  /** Puts the next generation of the cluster's desired set. */
  async publish(set: DeepPartial<DesiredSet>): Promise<DesiredSet> {
    this.generation = Math.max(this.generation + 1, set.generation ?? 0);
    const full = DesiredSet.fromPartial({
      ...set,
      cluster: this.cluster,
      generation: this.generation,
      publishedAtMs: Date.now(),
    });
    await this.kvOrFail().put(desiredKey(this.cluster), DesiredSet.encode(full).finish());
    return full;
  }

  /** Puts any bytes on the cluster's key, as a forger on the bus could (the generation counter stays). */
  async putRaw(data: Uint8Array): Promise<void> {
    await this.kvOrFail().put(desiredKey(this.cluster), data);
  }

  /** The generation the next `publish` will use at least. */
  get nextGeneration(): number {
    return this.generation + 1;
  }

  async deleteKey(): Promise<void> {
    await this.kvOrFail().delete(desiredKey(this.cluster));
  }

  private kvOrFail(): KV {
    if (!this.kv) throw new Error('createBus() first');
    return this.kv;
  }

  /** The first status (after `after` statuses) that matches. */
  async waitForStatus(
    match: (s: AssignmentStatus) => boolean,
    opts: { after?: number; timeoutMs?: number } = {},
  ): Promise<AssignmentStatus> {
    return eventually(() => this.statuses.slice(opts.after ?? 0).find(match), {
      timeoutMs: opts.timeoutMs ?? 60_000,
      describe: () => `statuses so far:\n${this.statuses.map(describeStatus).join('\n')}`,
    });
  }

  /** A control request to the agent (as the hub sends it), its AgentReply decoded. */
  async control(req: DeepPartial<AgentRequest> | Uint8Array, timeoutMs = 30_000): Promise<AgentReply> {
    const data =
      req instanceof Uint8Array
        ? req
        : AgentRequest.encode(
            AgentRequest.fromPartial({ deadlineMs: Date.now() + timeoutMs, ...req }),
          ).finish();
    const msg = await this.nc.request(controlSubject(this.cluster), data, { timeout: timeoutMs });
    return AgentReply.decode(msg.data);
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.nc?.close().catch(() => undefined);
  }
}

export function describeStatus(s: AssignmentStatus): string {
  return `${s.tenant}/${s.assignment} gen=${s.observedGeneration} ${AssignmentState[s.state]} ${s.reason} desired=${s.desiredRevision} applied=${s.appliedRevision} changes=${JSON.stringify(s.changes)} objects=${s.objects}: ${s.message}`;
}
