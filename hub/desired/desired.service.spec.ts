import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ReplaySubject } from 'rxjs';
import type { Assignment, DesiredSet, Repo, Tenant } from '../../proto/index.js';
import { createLogger } from '../../lib/log.js';
import type { BusConnection, BusService } from '../bus/bus.service.js';
import type { DesiredKvRepository } from './desired-kv.repository.js';
import { buildSnapshot, type DesiredSnapshot } from './desired-set.js';
import type { ClusterProjectionState, DesiredRepository, GenerationUpdate } from './desired.repository.js';
import { DesiredService } from './desired.service.js';
import { assignment, repo, SHA2, tenant } from '../../test/fixtures/hub-records.js';

class FakeStore {
  tenants: Tenant[] = [tenant('team-a')];
  repos: Repo[] = [repo('team-a', 'app')];
  assignments: Assignment[] = [];
  clusters = new Map<string, ClusterProjectionState>();

  addCluster(name: string, labels: Record<string, string> = {}): void {
    this.clusters.set(name, {
      name,
      labels,
      vars: {},
      maintenanceWindows: [],
      desiredGeneration: 0,
      desiredHash: '',
    });
  }
  async loadSnapshot(): Promise<DesiredSnapshot> {
    return buildSnapshot(this.tenants, this.repos, this.assignments);
  }
  async loadClusters(names?: readonly string[]): Promise<ClusterProjectionState[]> {
    const all = [...this.clusters.values()].map((c) => ({ ...c }));
    return names ? all.filter((c) => names.includes(c.name)) : all;
  }
  async saveGenerations(updates: readonly GenerationUpdate[]): Promise<void> {
    for (const u of updates) {
      const c = this.clusters.get(u.name);
      if (c) Object.assign(c, { desiredGeneration: u.generation, desiredHash: u.hash });
    }
  }
  async raiseGeneration(name: string, atLeast: number): Promise<void> {
    const c = this.clusters.get(name);
    if (c) Object.assign(c, { desiredGeneration: Math.max(c.desiredGeneration, atLeast), desiredHash: '' });
  }
}

class FakeKv {
  kv = new Map<string, DesiredSet>();
  puts: DesiredSet[] = [];
  deletes: string[] = [];
  ready = false;
  async ensureBucket(): Promise<void> {
    this.ready = true;
  }
  async put(set: DesiredSet): Promise<void> {
    if (!this.ready) throw new Error('not connected to NATS');
    this.puts.push(set);
    this.kv.set(set.cluster, set);
  }
  async get(cluster: string): Promise<DesiredSet | undefined> {
    if (!this.ready) throw new Error('not connected to NATS');
    return this.kv.get(cluster);
  }
  async delete(cluster: string): Promise<void> {
    if (!this.ready) throw new Error('not connected to NATS');
    this.deletes.push(cluster);
    this.kv.delete(cluster);
  }
  async keys(): Promise<string[]> {
    return [...this.kv.keys()];
  }
}

describe('DesiredService', () => {
  let store: FakeStore;
  let kv: FakeKv;
  let connected: ReplaySubject<BusConnection>;
  let service: DesiredService;
  const conn = { nc: { isClosed: () => false } } as unknown as BusConnection;

  let owner: { isOwner: boolean; establish(): Promise<boolean> };
  let maxPayload: number;
  beforeEach(() => {
    maxPayload = 1024 * 1024;
    owner = { isOwner: true, establish: async () => owner.isOwner };
    store = new FakeStore();
    kv = new FakeKv();
    connected = new ReplaySubject(1);
    service = new DesiredService(
      store as unknown as DesiredRepository,
      kv as unknown as DesiredKvRepository,
      {
        connected$: connected.asObservable(),
        get maxPayload() {
          return maxPayload;
        },
      } as unknown as BusService,
      createLogger('test', 'silent'),
      owner,
      { busCheckIntervalSeconds: 3600 },
    );
  });

  afterEach(async () => {
    await service.onModuleDestroy();
  });

  async function connect(): Promise<void> {
    service.onApplicationBootstrap();
    connected.next(conn);
    await eventuallySettled();
  }

  async function eventuallySettled(): Promise<void> {
    // onConnected runs asynchronously: wait until it has queued and finished its pass
    for (let i = 0; i < 50 && !kv.ready; i++) await new Promise((r) => setImmediate(r));
    await service.project([]);
    await service.settled();
  }

  it('publishes every cluster once with generation 1, and nothing again when nothing changed', async () => {
    store.addCluster('c1', { env: 'prod' });
    store.addCluster('c2', { env: 'dev' });
    store.assignments.push(assignment('team-a', 'web', { selector: { env: 'prod' } }));
    await connect();
    expect(kv.puts.map((s) => `${s.cluster}@${s.generation}:${s.assignments.length}`).sort()).toEqual([
      'c1@1:1',
      'c2@1:0',
    ]);
    await service.project('all');
    await service.project('all', { verify: true });
    await service.settled();
    expect(kv.puts).toHaveLength(2);
  });

  it('bumps only the clusters whose content changed', async () => {
    store.addCluster('c1', { env: 'prod' });
    store.addCluster('c2', { env: 'dev' });
    await connect();
    kv.puts = [];
    const changed: string[][] = [];
    service.changed$.subscribe((n) => changed.push(n));
    store.assignments.push(assignment('team-a', 'web', { clusters: ['c2'] }));
    await service.project('all');
    await service.settled();
    expect(kv.puts.map((s) => `${s.cluster}@${s.generation}`)).toEqual(['c2@2']);
    expect(changed).toEqual([['c2']]);

    store.repos[0] = repo('team-a', 'app', { revision: `main@sha1:${SHA2}` });
    await service.project('all');
    await service.settled();
    expect(kv.get('c2')).resolves.toMatchObject({ generation: 3 });
    expect(kv.kv.get('c2')!.assignments[0].source!.commit).toBe(SHA2);
  });

  it('projects only the clusters an assignment change selects, before and after', async () => {
    store.addCluster('c1', { env: 'prod' });
    store.addCluster('c2', { env: 'dev' });
    store.addCluster('c3', { env: 'test' });
    await connect();
    kv.puts = [];
    const before = assignment('team-a', 'web', { selector: { env: 'prod' } });
    store.assignments.push(before);
    await service.projectSelectedBy([before]);
    await service.settled();
    expect(kv.puts.map((s) => `${s.cluster}@${s.generation}:${s.assignments.length}`)).toEqual(['c1@2:1']);

    // moved from prod to dev: c1 loses it, c2 gains it, c3 stays as it is
    const after = assignment('team-a', 'web', { selector: { env: 'dev' } });
    store.assignments[0] = after;
    await service.projectSelectedBy([before, after]);
    await service.settled();
    expect(
      kv.puts
        .slice(1)
        .map((s) => `${s.cluster}@${s.generation}:${s.assignments.length}`)
        .sort(),
    ).toEqual(['c1@3:0', 'c2@2:1']);
  });

  it('deletes the key of a cluster that no longer exists', async () => {
    store.addCluster('c1');
    await connect();
    store.clusters.delete('c1');
    await service.project(['c1']);
    await service.settled();
    expect(kv.deletes).toEqual(['c1']);
    expect(kv.kv.has('c1')).toBe(false);
  });

  it('persists generations before the bus is reachable and publishes them on connect', async () => {
    store.addCluster('c1');
    service.onApplicationBootstrap(); // no connection yet
    await service.project('all');
    expect(store.clusters.get('c1')!.desiredGeneration).toBe(1);
    expect(kv.puts).toHaveLength(0);
    connected.next(conn);
    await eventuallySettled();
    expect(kv.kv.get('c1')!.generation).toBe(1);
  });

  it('on (re)connect restores missing keys without a new generation and removes stale ones', async () => {
    store.addCluster('c1');
    await connect();
    kv.kv.clear(); // the bus lost its state
    kv.kv.set('gone', {
      cluster: 'gone',
      generation: 1,
      tenants: [],
      assignments: [],
      publishedAtMs: 1,
      maintenanceWindows: [],
    });
    connected.next(conn);
    await eventuallySettled();
    expect(kv.kv.get('c1')!.generation).toBe(1);
    expect(kv.kv.has('gone')).toBe(false);
  });

  it('continues above a generation the bus already has', async () => {
    store.addCluster('c1');
    kv.ready = true;
    kv.kv.set('c1', {
      cluster: 'c1',
      generation: 41,
      tenants: [],
      assignments: [],
      publishedAtMs: 1,
      maintenanceWindows: [],
    });
    await connect();
    for (let i = 0; i < 20 && kv.kv.get('c1')!.generation === 41; i++) {
      await new Promise((r) => setTimeout(r, 5));
      await service.settled();
    }
    expect(kv.kv.get('c1')!.generation).toBe(42);
    expect(store.clusters.get('c1')!.desiredGeneration).toBe(42);
  });

  it('a hub that does not own the bus neither deletes nor overwrites what it does not know', async () => {
    owner.isOwner = false;
    store.addCluster('mine');
    store.addCluster('shared');
    kv.ready = true;
    const theirs = {
      cluster: 'shared',
      generation: 9,
      tenants: [tenant('x')],
      assignments: [],
      publishedAtMs: 1,
      maintenanceWindows: [],
    };
    kv.kv.set('shared', theirs);
    kv.kv.set('other', {
      cluster: 'other',
      generation: 3,
      tenants: [],
      assignments: [],
      publishedAtMs: 1,
      maintenanceWindows: [],
    });
    await connect();
    expect(kv.deletes).toEqual([]);
    expect(kv.kv.get('other')!.generation).toBe(3);
    expect(kv.kv.get('shared')).toEqual(theirs);
    expect(kv.kv.get('mine')!.generation).toBe(1); // a key the bus lacked
    expect(store.clusters.get('shared')!.desiredGeneration).toBe(1); // not raised above theirs
    expect(service.unpublished().get('shared')).toMatchObject({ reason: 'BusNotOwned' });
    expect(service.unpublished().has('mine')).toBe(false);
  });

  it('keeps a desired set the bus cannot carry out of the store and off the bus, and publishes the rest', async () => {
    store.addCluster('big');
    store.addCluster('small');
    await connect();
    expect(kv.kv.get('big')!.generation).toBe(1);
    maxPayload = 4096 + 500; // room for 500 bytes
    store.assignments.push(assignment('team-a', 'a1', { clusters: ['big', 'small'] }));
    store.assignments.push(assignment('team-a', 'a2', { clusters: ['big'], path: 'p'.repeat(600) }));
    const changed: string[][] = [];
    service.changed$.subscribe((n) => changed.push(n));
    await service.project('all');
    await service.settled();
    expect(store.clusters.get('big')!.desiredGeneration).toBe(1);
    expect(kv.kv.get('big')!.assignments).toEqual([]); // the previous set stays
    expect(kv.kv.get('small')!.generation).toBe(2);
    const o = service.oversizedSets.get('big')!;
    expect(o.size).toBeGreaterThan(o.limit);
    expect(changed.flat()).toContain('big');
    await expect(
      service.assertFits(assignment('team-a', 'a4', { clusters: ['small', 'big'], path: 'q'.repeat(100) })),
    ).rejects.toThrow(
      /would make the desired set of cluster "big" [\d,]+ bytes, over the bus's limit of 500 bytes/,
    );
    // back under the limit: published, and no longer reported
    store.assignments = store.assignments.slice(0, 1);
    await service.project('all');
    await service.settled();
    expect(kv.kv.get('big')!.generation).toBe(2);
    expect(service.oversizedSets.size).toBe(0);
  });
});
