import { afterEach, describe, expect, it, jest } from '@jest/globals';
import {
  NoRespondersError,
  RequestError,
  type Msg,
  type NatsConnection,
  type Status,
} from '@nats-io/transport-node';
import { DESIRED_BUCKET, DesiredSet, desiredSubject, directGetSubject } from '../../proto/index.js';
import { DesiredSetWatcher, DirectGetPool } from './desired-set-watcher.js';

type Stored = { data: Uint8Array; op?: string } | undefined;

/** Just enough of a NatsConnection: subscriptions, requests answered from a fake KV, status. */
class FakeNats {
  readonly subs = new Map<string, (err: Error | null, msg: Msg) => void>();
  readonly kv = new Map<string, Stored>();
  mode: 'direct' | 'no-bucket' = 'direct';
  requests = 0;
  inFlight = 0;
  maxInFlight = 0;
  statusCalls = 0;
  hold: Promise<void> | undefined;
  private statusPush: ((s: Status) => void) | undefined;

  asConn(): NatsConnection {
    return this as unknown as NatsConnection;
  }

  subscribe(subject: string, opts: { callback: (err: Error | null, msg: Msg) => void }) {
    this.subs.set(subject, opts.callback);
    return { unsubscribe: () => this.subs.delete(subject) };
  }

  isClosed(): boolean {
    return false;
  }

  status(): AsyncIterable<Status> {
    this.statusCalls++;
    const queue: Status[] = [];
    let wake: (() => void) | undefined;
    this.statusPush = (s) => {
      queue.push(s);
      wake?.();
    };
    return {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          while (queue.length === 0) await new Promise<void>((r) => (wake = r));
          return { value: queue.shift()!, done: false };
        },
      }),
    };
  }

  reconnect(): void {
    this.statusPush?.({ type: 'reconnect', server: 'fake' });
  }

  async request(subject: string, payload: Uint8Array): Promise<Msg> {
    this.requests++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.hold;
      // only the subject form of a direct get, with no payload, is what an agent may send
      const prefix = `${directGetSubject(DESIRED_BUCKET)}.`;
      if (!subject.startsWith(prefix) || payload.length > 0) throw new Error(`unexpected request ${subject}`);
      if (this.mode !== 'direct')
        throw new RequestError('no responders', { cause: new NoRespondersError(subject) });
      const stored = this.kv.get(subject.slice(prefix.length));
      if (!stored) return msg(new Uint8Array(), { code: 404 });
      return msg(stored.data, { op: stored.op });
    } finally {
      this.inFlight--;
    }
  }

  /** A KV put (or delete) as the hub makes it: stored, and published to the key's subject. */
  put(cluster: string, set: Partial<DesiredSet> | 'DEL', opts: { silent?: boolean } = {}): void {
    const subject = desiredSubject(cluster);
    const stored =
      set === 'DEL'
        ? { data: new Uint8Array(), op: 'DEL' }
        : { data: DesiredSet.encode(DesiredSet.fromPartial({ cluster, ...set })).finish() };
    this.kv.set(subject, stored);
    if (!opts.silent) this.subs.get(subject)?.(null, msg(stored.data, { op: stored.op }));
  }
}

function msg(data: Uint8Array, h: { code?: number; op?: string }): Msg {
  return {
    subject: '',
    sid: 0,
    data,
    headers: {
      code: h.code ?? 0,
      description: h.code === 404 ? 'Message Not Found' : '',
      get: (k: string) => (k === 'KV-Operation' ? (h.op ?? '') : ''),
    },
    json: () => JSON.parse(Buffer.from(data).toString('utf8')),
    string: () => Buffer.from(data).toString('utf8'),
  } as unknown as Msg;
}

function record(nc: FakeNats, cluster: string, initialGeneration?: number) {
  const seen: Array<number | 'deleted'> = [];
  const errors: string[] = [];
  const invalid: string[] = [];
  const w = new DesiredSetWatcher(nc.asConn(), cluster, {
    initialGeneration,
    onDesired: (s) => seen.push(s.generation),
    onDeleted: () => seen.push('deleted'),
    onError: (e) => errors.push(e.message),
    onInvalid: (e) => invalid.push(e.message),
  });
  return { w, seen, errors, invalid };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('DesiredSetWatcher', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('emits the stored value, then only newer generations', async () => {
    const nc = new FakeNats();
    nc.put('c1', { generation: 3 });
    const { w, seen } = record(nc, 'c1');
    w.start();
    await settle();
    expect(seen).toEqual([3]);
    nc.put('c1', { generation: 2 });
    nc.put('c1', { generation: 3 });
    nc.put('c1', { generation: 5 });
    nc.put('c1', { generation: 4 });
    expect(seen).toEqual([3, 5]);
    expect(w.generation).toBe(5);
    expect(w.latest?.generation).toBe(5);
    w.stop();
  });

  it('ignores what it already holds (the generation persisted in the cluster)', async () => {
    const nc = new FakeNats();
    nc.put('c1', { generation: 7 });
    const { w, seen } = record(nc, 'c1', 7);
    w.start();
    await settle();
    expect(seen).toEqual([]);
    nc.put('c1', { generation: 8 });
    expect(seen).toEqual([8]);
    w.stop();
  });

  it('reports a deletion once and accepts a re-registered cluster starting over', async () => {
    const nc = new FakeNats();
    nc.put('c1', { generation: 4 });
    const { w, seen } = record(nc, 'c1');
    w.start();
    await settle();
    nc.put('c1', 'DEL');
    w.refresh(); // the stored delete marker read again: no second event
    await settle();
    nc.put('c1', { generation: 1 });
    expect(seen).toEqual([4, 'deleted', 1]);
    w.stop();
  });

  it('reads the key again after a reconnect, catching what was published meanwhile', async () => {
    const nc = new FakeNats();
    const { w, seen } = record(nc, 'c1');
    w.start();
    await settle();
    expect(seen).toEqual([]); // no value yet
    nc.put('c1', { generation: 2 }, { silent: true }); // published while disconnected
    nc.reconnect();
    await settle();
    await settle();
    expect(seen).toEqual([2]);
    w.stop();
  });

  it('refuses a desired set for another cluster', async () => {
    const nc = new FakeNats();
    const { w, seen, invalid } = record(nc, 'c1');
    w.start();
    await settle();
    nc.subs.get(desiredSubject('c1'))!(
      null,
      msg(DesiredSet.encode(DesiredSet.fromPartial({ cluster: 'c2', generation: 9 })).finish(), {}),
    );
    expect(seen).toEqual([]);
    expect(invalid[0]).toContain('desired_set.cluster: "c2" is not this cluster (c1)');
    w.stop();
  });

  it('refuses invalid sets as a whole and keeps counting from the last good generation', async () => {
    const nc = new FakeNats();
    nc.put('c1', { generation: 3 });
    const { w, seen, invalid } = record(nc, 'c1');
    w.start();
    await settle();
    const deliver = (data: Uint8Array) => nc.subs.get(desiredSubject('c1'))!(null, msg(data, {}));
    deliver(DesiredSet.encode(DesiredSet.fromPartial({ cluster: 'c1', generation: 2 ** 53 - 1 })).finish());
    deliver(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect(invalid).toEqual([
      expect.stringContaining('desired_set.generation: 9007199254740991 is not between 1 and 2^48'),
      expect.stringContaining('undecodable desired set on'),
    ]);
    nc.put('c1', { generation: 4 });
    expect(seen).toEqual([3, 4]);
    expect(w.generation).toBe(4);
    w.stop();
  });

  it('retries until the bucket exists', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const nc = new FakeNats();
    nc.mode = 'no-bucket';
    const { w, seen, errors } = record(nc, 'c1');
    w.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(errors[0]).toContain('does not exist yet');
    nc.mode = 'direct';
    nc.put('c1', { generation: 6 }, { silent: true });
    await jest.advanceTimersByTimeAsync(1000);
    expect(seen).toEqual([6]);
    w.stop();
  });

  it('serves many watchers from one status listener with bounded concurrent gets', async () => {
    const nc = new FakeNats();
    let release!: () => void;
    nc.hold = new Promise<void>((r) => (release = r));
    const n = DirectGetPool.concurrency * 3;
    const watchers = Array.from({ length: n }, (_, i) => {
      nc.put(`c${i}`, { generation: i + 1 });
      return record(nc, `c${i}`);
    });
    for (const { w } of watchers) w.start();
    await settle();
    expect(nc.inFlight).toBe(DirectGetPool.concurrency);
    release();
    for (let i = 0; i < 10 && watchers.some((x) => x.seen.length === 0); i++) await settle();
    expect(watchers.every((x, i) => x.seen[0] === i + 1)).toBe(true);
    expect(nc.maxInFlight).toBe(DirectGetPool.concurrency);
    expect(nc.statusCalls).toBe(1);
    expect(nc.requests).toBe(n);
    for (const { w } of watchers) w.stop();
  });
});
