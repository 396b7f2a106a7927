import { describe, expect, it } from '@jest/globals';
import { createLogger } from '../../lib/log.js';
import type { KubeCluster, LiveObject } from '../kube/kube-client.js';
import { DriftWatch } from './drift-watch.js';
import type { Inventory } from './inventory.js';

type OnEvent = (type: string, object: LiveObject) => void;

/** A client whose watches the test drives: each watch call waits for the test to end it. */
class FakeClient {
  lists = 0;
  /** What a list returns: by default the object as our apply wrote it (setup). */
  items: LiveObject[] = [cm('99')];
  watches: Array<{ query: Record<string, string>; onEvent: OnEvent; end: (err?: unknown) => void }> = [];
  listVersioned() {
    this.lists++;
    return Promise.resolve({ items: this.items, resourceVersion: `${this.lists}00` });
  }
  watch(
    _apiVersion: string,
    _kind: string,
    _namespace: string | undefined,
    query: Record<string, string>,
    onEvent: OnEvent,
    signal: AbortSignal,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const end = (err?: unknown) => (err ? reject(err) : resolve());
      signal.addEventListener('abort', () => resolve(), { once: true });
      this.watches.push({
        query,
        end,
        onEvent: (t, o) => {
          try {
            onEvent(t, o);
          } catch (err) {
            reject(err);
          }
        },
      });
    });
  }
}

const inventory: Inventory = {
  tenant: 'team-a',
  assignment: 'web',
  revision: 'main@sha1:x',
  prune: true,
  serviceAccount: 'system:serviceaccount:team-a:gitfleet-reconciler',
  objects: [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'team-a', name: 'settings' }],
};
/** The ConfigMap at resourceVersion `rv`, holding `value` (a change of value is drift; of rv alone, not). */
const cm = (rv: string, uid = 'u1', value = 'a'): LiveObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'settings', namespace: 'team-a', uid, resourceVersion: rv },
  data: { value },
});
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

function setup(busy?: (key: string) => boolean) {
  const client = new FakeClient();
  const users: string[] = [];
  const kube = {
    impersonate: (user: string) => (users.push(user), client),
  } as unknown as KubeCluster;
  const queued: string[] = [];
  const drift = new DriftWatch({
    kube,
    log: createLogger('test', 'silent'),
    onDrift: (key) => queued.push(key),
    busy,
    debounceMs: 20,
    retryFirstMs: 10,
    retryMaxMs: 20,
  });
  drift.wrote(cm('99'));
  return { client, users, queued, drift };
}

describe('DriftWatch', () => {
  it('watches as the tenant with its label, queues foreign changes once, skips our own writes', async () => {
    const { client, users, queued, drift } = setup();
    drift.track('team-a', 'web', inventory);
    await tick();
    expect(users).toEqual(['system:serviceaccount:team-a:gitfleet-reconciler']);
    expect(client.watches[0].query).toMatchObject({
      labelSelector: 'gitfleet.dev/tenant=team-a',
      resourceVersion: '100',
      allowWatchBookmarks: 'true',
    });
    const w = client.watches[0];
    w.onEvent('MODIFIED', cm('101', 'u1', 'b'));
    w.onEvent('MODIFIED', cm('102', 'u1', 'c'));
    await tick(50);
    expect(queued).toEqual(['team-a/web']); // debounced

    drift.wrote(cm('103', 'u1', 'a'));
    w.onEvent('MODIFIED', cm('103', 'u1', 'a'));
    await tick(50);
    expect(queued).toEqual(['team-a/web']); // our own write

    // the event may come before the apply's response: decided when the debounce ends
    w.onEvent('MODIFIED', cm('104', 'u1', 'd'));
    drift.wrote(cm('104', 'u1', 'd'));
    await tick(50);
    expect(queued).toEqual(['team-a/web']);

    w.onEvent('DELETED', cm('105'));
    // an object that is in no inventory
    w.onEvent('MODIFIED', { ...cm('106'), metadata: { name: 'other', namespace: 'team-a', uid: 'u2' } });
    await tick(50);
    expect(queued).toEqual(['team-a/web', 'team-a/web']);
    await drift.stop();
  });

  it('resumes from bookmarks, relists after 410 Gone and after failures, then queues every owner', async () => {
    const { client, queued, drift } = setup();
    drift.track('team-a', 'web', inventory);
    await tick();
    client.watches[0].onEvent('BOOKMARK', cm('150'));
    client.watches[0].end(); // the server ended the stream: resume, no relist
    await tick(5);
    expect(client.lists).toBe(1);
    expect(client.watches[1].query.resourceVersion).toBe('150');

    client.watches[1].onEvent('ERROR', { code: 410, message: 'too old' } as unknown as LiveObject);
    await tick(50);
    expect(client.lists).toBe(2);
    expect(client.watches[2].query.resourceVersion).toBe('200');
    expect(queued).toEqual(['team-a/web']); // a gap: changes may have been missed

    client.watches[2].end(new Error('connection reset'));
    await tick(80);
    expect(client.lists).toBe(3);
    expect(client.watches).toHaveLength(4);
    await drift.stop();
    expect(drift.watches).toBe(0);
  });

  it('queues nothing when only the status or bookkeeping metadata changed (a controller reporting)', async () => {
    const { client, queued, drift } = setup();
    const deployment = (rv: string, status: Record<string, unknown>, replicas = 2): LiveObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web',
        namespace: 'team-a',
        uid: 'd1',
        resourceVersion: rv,
        generation: Number(rv),
        managedFields: [{ manager: 'kube-controller-manager', subresource: 'status', time: rv }],
      },
      spec: { replicas },
      status,
    });
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'team-a', name: 'web' };
    client.items = [deployment('10', {})];
    drift.wrote(deployment('10', {})); // as our apply left it
    drift.track('team-a', 'web', { ...inventory, objects: [ref] });
    await tick();
    const w = client.watches[0];
    w.onEvent('MODIFIED', deployment('11', { replicas: 2, readyReplicas: 0 }));
    w.onEvent('MODIFIED', deployment('12', { replicas: 2, readyReplicas: 1 }));
    await tick(50);
    expect(queued).toEqual([]);
    // someone scaled it: drift
    w.onEvent('MODIFIED', deployment('13', { replicas: 2 }, 5));
    await tick(50);
    expect(queued).toEqual(['team-a/web']);
    await drift.stop();
  });

  it('queues the owner when the first list shows a change made between the apply and the watch', async () => {
    for (const [items, why] of [
      [[cm('120', 'u1', 'foreign')], 'changed by someone else'],
      [[], 'deleted'],
    ] as const) {
      const { client, queued, drift } = setup();
      client.items = [...items];
      drift.track('team-a', 'web', inventory);
      await tick(50);
      expect([why, queued]).toEqual([why, ['team-a/web']]);
      await drift.stop();
    }
    // as our apply left it: nothing to do
    const { queued, drift } = setup();
    drift.track('team-a', 'web', inventory);
    await tick(50);
    expect(queued).toEqual([]);
    await drift.stop();
  });

  it('decides after a running pass of the owner: its own writes may be known only when it is done', async () => {
    let running = true;
    const { client, queued, drift } = setup(() => running);
    drift.track('team-a', 'web', inventory);
    await tick();
    // the event of our own apply, long before the apply's response
    client.watches[0].onEvent('MODIFIED', cm('110', 'u1', 'new'));
    await tick(80);
    expect(queued).toEqual([]);
    drift.wrote(cm('110', 'u1', 'new'));
    running = false;
    await tick(50);
    expect(queued).toEqual([]);
    // a foreign change while a pass runs still queues once it is done
    running = true;
    client.watches[0].onEvent('MODIFIED', cm('111', 'u1', 'foreign'));
    await tick(50);
    expect(queued).toEqual([]);
    running = false;
    await tick(50);
    expect(queued).toEqual(['team-a/web']);
    await drift.stop();
  });

  it('stops the watches no inventory needs any more', async () => {
    const { client, drift } = setup();
    drift.track('team-a', 'web', inventory);
    drift.track('team-a', 'jobs', { ...inventory, assignment: 'jobs' });
    await tick();
    expect(drift.watches).toBe(1); // same kind and namespace: one watch
    drift.track('team-a', 'web', undefined);
    expect(drift.watches).toBe(1);
    drift.track('team-a', 'jobs', { ...inventory, assignment: 'jobs', objects: [] });
    expect(drift.watches).toBe(0);
    await tick();
    expect(client.watches).toHaveLength(1);
    await drift.stop();
  });
});
