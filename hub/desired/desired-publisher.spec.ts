import { describe, expect, it } from '@jest/globals';
import type { DesiredSet } from '../../proto/index.js';
import { createLogger } from '../../lib/log.js';
import { deferred } from '../../lib/limit.js';
import { DesiredPublisher, type PublishTarget } from './desired-publisher.js';

const log = createLogger('test', 'silent');

function set(cluster: string, generation: number, extra = ''): DesiredSet {
  return {
    cluster,
    generation,
    tenants: extra
      ? [{ name: extra, namespaces: [extra], serviceAccount: 's', clusterRole: 'r', allowedClusterKinds: [] }]
      : [],
    assignments: [],
    publishedAtMs: 0,
    maintenanceWindows: [],
  };
}

/** An in-memory bus that records concurrency and can be made to fail or stall. */
class FakeBus implements PublishTarget {
  readonly kv = new Map<string, DesiredSet>();
  inFlight = 0;
  maxInFlight = 0;
  puts = 0;
  gets = 0;
  fail = false;
  gate: Promise<void> | undefined;

  private async op<T>(fn: () => T): Promise<T> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((r) => setImmediate(r));
      if (this.gate) await this.gate;
      if (this.fail) throw new Error('connection refused');
      return fn();
    } finally {
      this.inFlight--;
    }
  }
  put(s: DesiredSet): Promise<void> {
    return this.op(() => {
      this.puts++;
      this.kv.set(s.cluster, s);
    });
  }
  get(cluster: string): Promise<DesiredSet | undefined> {
    return this.op(() => {
      this.gets++;
      return this.kv.get(cluster);
    });
  }
  delete(cluster: string): Promise<void> {
    return this.op(() => void this.kv.delete(cluster));
  }
}

describe('DesiredPublisher', () => {
  it('publishes 10,000 clusters with at most `concurrency` operations in flight', async () => {
    const bus = new FakeBus();
    const p = new DesiredPublisher(bus, { concurrency: 256, log, onBehind: () => undefined });
    for (let i = 0; i < 10_000; i++) p.enqueue(`c${i}`, { kind: 'put', set: set(`c${i}`, 1), verify: false });
    await p.whenIdle();
    expect(bus.kv.size).toBe(10_000);
    expect(bus.maxInFlight).toBe(256);
    expect(bus.kv.get('c42')!.publishedAtMs).toBeGreaterThan(0);
  });

  it('keeps one operation per cluster in flight and the latest pending one wins', async () => {
    const bus = new FakeBus();
    const gate = deferred<void>();
    bus.gate = gate.promise;
    const p = new DesiredPublisher(bus, { concurrency: 8, log, onBehind: () => undefined });
    p.enqueue('c', { kind: 'put', set: set('c', 1), verify: false });
    p.enqueue('c', { kind: 'put', set: set('c', 2), verify: false });
    p.enqueue('c', { kind: 'put', set: set('c', 3), verify: false });
    expect(p.stats).toEqual({ pending: 1, inFlight: 1, failed: 0 });
    bus.gate = undefined;
    gate.resolve();
    await p.whenIdle();
    expect(bus.puts).toBe(2); // generation 1 (already in flight), then 3
    expect(bus.kv.get('c')!.generation).toBe(3);
  });

  it('a delete after a put leaves no key', async () => {
    const bus = new FakeBus();
    const p = new DesiredPublisher(bus, { concurrency: 8, log, onBehind: () => undefined });
    p.enqueue('c', { kind: 'put', set: set('c', 1), verify: false });
    p.enqueue('c', { kind: 'delete' });
    await p.whenIdle();
    expect(bus.kv.has('c')).toBe(false);
  });

  it('keeps failed operations and retries them', async () => {
    const bus = new FakeBus();
    bus.fail = true;
    const p = new DesiredPublisher(bus, { concurrency: 4, log, onBehind: () => undefined, retryMinMs: 10 });
    for (let i = 0; i < 5; i++) p.enqueue(`c${i}`, { kind: 'put', set: set(`c${i}`, 1), verify: false });
    await p.whenIdle();
    expect(p.stats.failed).toBe(5);
    bus.fail = false;
    p.retryFailed();
    await p.whenIdle();
    expect(p.stats).toEqual({ pending: 0, inFlight: 0, failed: 0 });
    expect(bus.kv.size).toBe(5);
    p.stop();
  });

  it('retries by itself after a backoff', async () => {
    const bus = new FakeBus();
    bus.fail = true;
    const p = new DesiredPublisher(bus, { concurrency: 4, log, onBehind: () => undefined, retryMinMs: 20 });
    p.enqueue('c', { kind: 'put', set: set('c', 1), verify: false });
    await p.whenIdle();
    bus.fail = false;
    const deadline = Date.now() + 5000;
    while (!bus.kv.has('c') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(bus.kv.get('c')!.generation).toBe(1);
    p.stop();
  });

  it('verify skips what the bus already holds and writes what it lacks', async () => {
    const bus = new FakeBus();
    bus.kv.set('same', set('same', 4));
    const p = new DesiredPublisher(bus, { concurrency: 4, log, onBehind: () => undefined });
    p.enqueue('same', { kind: 'put', set: set('same', 4), verify: true });
    p.enqueue('missing', { kind: 'put', set: set('missing', 2), verify: true });
    await p.whenIdle();
    expect(bus.puts).toBe(1);
    expect(bus.kv.get('missing')!.generation).toBe(2);
  });

  it('checks the first write of each cluster against the bus, then writes blindly', async () => {
    const bus = new FakeBus();
    const p = new DesiredPublisher(bus, { concurrency: 4, log, onBehind: () => undefined });
    p.enqueue('c', { kind: 'put', set: set('c', 1), verify: false });
    await p.whenIdle();
    p.enqueue('c', { kind: 'put', set: set('c', 2), verify: false });
    await p.whenIdle();
    expect(bus.gets).toBe(1);
    expect(bus.puts).toBe(2);
  });

  it('a first write never moves the bus backwards (a hub with a younger store)', async () => {
    const bus = new FakeBus();
    bus.kv.set('c', set('c', 41));
    const behind: Array<[string, number]> = [];
    const p = new DesiredPublisher(bus, { concurrency: 4, log, onBehind: (c, g) => behind.push([c, g]) });
    p.enqueue('c', { kind: 'put', set: set('c', 1), verify: false });
    await p.whenIdle();
    expect(behind).toEqual([['c', 41]]);
    expect(bus.kv.get('c')!.generation).toBe(41);
  });

  it('verify reports a bus that is ahead instead of going backwards', async () => {
    const bus = new FakeBus();
    bus.kv.set('c', set('c', 7, 'other'));
    const behind: Array<[string, number]> = [];
    const p = new DesiredPublisher(bus, { concurrency: 4, log, onBehind: (c, g) => behind.push([c, g]) });
    p.enqueue('c', { kind: 'put', set: set('c', 2), verify: true });
    await p.whenIdle();
    expect(behind).toEqual([['c', 7]]);
    expect(bus.puts).toBe(0);
  });

  it('a verify never downgrades a pending write', async () => {
    const bus = new FakeBus();
    bus.kv.set('c', set('c', 4));
    const gate = deferred<void>();
    bus.gate = gate.promise;
    const p = new DesiredPublisher(bus, { concurrency: 1, log, onBehind: () => undefined });
    p.enqueue('other', { kind: 'put', set: set('other', 1), verify: false }); // occupies the only slot
    p.enqueue('c', { kind: 'put', set: set('c', 5, 'new'), verify: false });
    p.enqueue('c', { kind: 'put', set: set('c', 5, 'new'), verify: true });
    bus.gate = undefined;
    gate.resolve();
    await p.whenIdle();
    expect(bus.kv.get('c')!.tenants).toHaveLength(1);
  });
});
