// The raw NATS floor the fan-out is compared with: the same N keys put by a bare KV client and
// observed by bare direct-get + subscription watchers, on the same fresh nats-server.
import { performance } from 'node:perf_hooks';
import { Kvm } from '@nats-io/kv';
import { connect, Empty, type NatsConnection } from '@nats-io/transport-node';
import { directGetSubject, kvSubject } from '../../../../proto/index.js';
import type { NatsEnv } from '../../../env/index.js';
import { CpuWindow, findPid } from '../../lib/proc.js';
import type { Progress } from '../../lib/progress.js';
import { fmtCpu, fmtInt, fmtMs } from '../../lib/report.js';
import { Cleanup } from '../../lib/scenario.js';
import { distribution, type Distribution } from '../../lib/stats.js';
import { forEachLimit, waitUntil, type Budget } from '../../lib/wait.js';
import { clusterName, connectAgents } from './common.js';

/** Puts in flight (the hub's PUBLISH_CONCURRENCY) and direct gets in flight per connection (the agent pool's). */
const FLOOR_PUT_CONCURRENCY = 256;
const FLOOR_GET_CONCURRENCY = 64;
const FLOOR_BUCKET = 'bench-floor';

export interface FloorResult {
  putsMs: number;
  upMs: number;
  fanout: Distribution;
  fanoutPutsMs: number;
  missing: number;
  getErrors: number;
  /** CPU ms per process while the bare watchers came up and during the fan-out. */
  cpu: { up: Record<string, number>; fanout: Record<string, number> };
}

/** A value of `payloadBytes` that carries its round in the first byte. */
function value(round: number, payloadBytes: number): Uint8Array {
  const v = new Uint8Array(payloadBytes);
  v[0] = round;
  return v;
}

/** N bare watchers: a subscription to each key's subject and one direct get of each key. */
class BareWatchers {
  /** Round seen per key. */
  private readonly seen: Uint8Array;
  /** Time from fanoutT0 to round 2 arriving, per key. */
  readonly arrived: Float64Array;
  arrivedCount = 0;
  fanoutT0 = NaN;
  getErrors = 0;

  constructor(
    private readonly conns: NatsConnection[],
    private readonly keys: string[],
  ) {
    this.seen = new Uint8Array(keys.length);
    this.arrived = new Float64Array(keys.length).fill(NaN);
    keys.forEach((k, i) => {
      conns[i % conns.length].subscribe(kvSubject(FLOOR_BUCKET, k), {
        callback: (err, msg) => {
          if (!err) this.observe(i, msg.data);
        },
      });
    });
  }

  private observe(i: number, data: Uint8Array): void {
    const round = data[0] ?? 0;
    if (round <= this.seen[i]) return;
    this.seen[i] = round;
    if (round === 2 && Number.isNaN(this.arrived[i])) {
      this.arrived[i] = performance.now() - this.fanoutT0;
      this.arrivedCount++;
    }
  }

  private async getOne(i: number): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const msg = await this.conns[i % this.conns.length].request(
          // the same form of direct get as the agent's (the key in the subject, no payload)
          `${directGetSubject(FLOOR_BUCKET)}.${kvSubject(FLOOR_BUCKET, this.keys[i])}`,
          Empty,
          { timeout: 5000 },
        );
        this.observe(i, msg.data);
        return;
      } catch {
        this.getErrors++;
      }
    }
  }

  /** Every watcher reads its key once, bounded per connection like the agent's DirectGetPool. */
  async readAll(budget: Budget): Promise<void> {
    const connections = this.conns.length;
    await Promise.all(
      this.conns.map((_, c) => {
        const mine = this.keys.map((_k, i) => i).filter((i) => i % connections === c);
        return forEachLimit(
          mine,
          FLOOR_GET_CONCURRENCY,
          (i) => this.getOne(i),
          undefined,
          budget,
          'floor gets',
        );
      }),
    );
  }
}

export async function runFloor(
  nats: NatsEnv,
  n: number,
  connections: number,
  payloadBytes: number,
  progress: Progress,
  budget: Budget,
): Promise<FloorResult> {
  const cleanup = new Cleanup();
  try {
    const writer = await connect({ servers: [nats.url], name: 'bench-floor-writer' });
    cleanup.add('floor writer', () => writer.close());
    const kv = await new Kvm(writer).create(FLOOR_BUCKET, { history: 1, allow_direct: true });
    const keys = Array.from({ length: n }, (_, i) => clusterName(i));
    // round `round` of every key, with the hub's concurrency
    const putRound = (round: number, label: string, phase: string) => {
      const started = Date.now();
      return forEachLimit(
        keys,
        FLOOR_PUT_CONCURRENCY,
        async (k) => void (await kv.put(k, value(round, payloadBytes))),
        (done) => progress.count(`floor: ${label}`, done, n, started),
        budget,
        phase,
      );
    };

    let t = performance.now();
    await putRound(1, 'initial puts', 'floor puts');
    const putsMs = performance.now() - t;

    // the bare watchers come up: subscribe, then read their key
    const conns = await Promise.all(
      Array.from({ length: connections }, (_, i) => connectAgents(nats.url, `bench-floor-${i}`)),
    );
    cleanup.add('floor connections', () => Promise.all(conns.map((c) => c.close())));
    const watchers = new BareWatchers(conns, keys);
    const pids = { bench: process.pid, 'nats-server': findPid(nats.dir) };
    const upCpu = new CpuWindow(pids);
    t = performance.now();
    await watchers.readAll(budget);
    const upMs = performance.now() - t;
    const cpuUp = upCpu.end();
    progress.say(`floor: ${fmtInt(n)} bare watchers up in ${fmtMs(upMs)}`);

    // the fan-out: round 2 of every key
    const fanoutCpu = new CpuWindow(pids);
    watchers.fanoutT0 = performance.now();
    await putRound(2, 'fan-out puts', 'floor fan-out');
    const fanoutPutsMs = performance.now() - watchers.fanoutT0;
    await waitUntil('floor fan-out', () => watchers.arrivedCount === n, {
      timeoutMs: 120_000,
      budget,
      progress,
      describe: () => `${fmtInt(watchers.arrivedCount)}/${fmtInt(n)} watchers have the new value`,
    }).catch((err: Error) => progress.say(err.message));
    const cpuFanout = fanoutCpu.end();
    const fanout = distribution(watchers.arrived);
    progress.say(
      `floor: fan-out to ${fmtInt(n)} p50 ${fmtMs(fanout.p50)} p99 ${fmtMs(fanout.p99)} max ${fmtMs(fanout.max)}; CPU ${fmtCpu(cpuFanout)}`,
    );
    await kv.destroy().catch(() => undefined);
    return {
      putsMs,
      upMs,
      fanout,
      fanoutPutsMs,
      missing: n - watchers.arrivedCount,
      getErrors: watchers.getErrors,
      cpu: { up: cpuUp, fanout: cpuFanout },
    };
  } finally {
    await cleanup.run(progress);
  }
}
