// Finds drift as it happens: watches of the kinds an assignment applied, so that a change someone
// else makes to an applied object (a value changed, a field removed, the object deleted) queues
// its assignment at once instead of at the next resync.
//
// - One watch per (identity, kind, namespace) that holds applied objects, with the label selector
//   of the tenant's ownership label: never cluster-wide for a namespaced kind.
// - Watches run as the tenant, the identity that applied the objects: its role ("admin" by
//   default) may list and watch in its namespaces, and a watch never shows the agent more than the
//   tenant could read. The agent's own RBAC (deploy/agent/rbac.yaml) stays as small as it is. A
//   cluster-scoped kind is watched cluster-wide (by label) only if the operator granted the tenant
//   list and watch on it; if not (403), that is logged once and its drift is found at resync.
// - Which assignment owns an object comes from the inventories (followed through
//   InventoryStore.onChange), not from labels alone: an object that only carries our labels is
//   not ours.
// - Our own applies are recognized by the resourceVersion they returned and do not queue anything;
//   even if one did, the pass it queued finds nothing drifted and writes nothing, so nothing loops.
// - Bookmarks keep the resourceVersion fresh; a stream the server ends is resumed from it; "410
//   Gone" or a failure relists (then every owner in that watch is queued: changes may have been
//   missed), after a backoff doubling up to 30 s. The agent's resync stays the safety net.
// - A watch whose kind and namespace no inventory holds any more is stopped; stop() ends all.
import { createHash } from 'node:crypto';
import { LABEL_TENANT } from '../../proto/index.js';
import { sleep } from '../../lib/backoff.js';
import type { Logger } from '../../lib/log.js';
import { statusCode, kubeErrorMessage } from '../kube/errors.js';
import type { KubeClient, KubeCluster, LiveObject } from '../kube/kube-client.js';
import { labelValue, refKey, type ObjectRef } from '../kube/objects.js';
import { assignmentKey, type Inventory } from './inventory.js';

export interface DriftWatchOptions {
  kube: KubeCluster;
  log: Logger;
  /** Queues an assignment (its key, "tenant/name") one of whose objects changed. */
  onDrift(key: string): void;
  /**
   * Whether a pass of the assignment is running: its own writes may not all be known yet (a watch
   * event can come long before the apply's response), so the decision waits until it is done.
   */
  busy?: (key: string) => boolean;
  /** Changes to one assignment within this window queue it once (default 250 ms). */
  debounceMs?: number;
  /** Backoff of a failed watch (default 500 ms doubling to 30 s). */
  retryFirstMs?: number;
  retryMaxMs?: number;
  /** How long the server keeps one watch request open (default 300 s; then it is resumed). */
  timeoutSeconds?: number;
}

class GoneError extends Error {}

/** One watch: a kind in a namespace (or cluster-wide for a cluster-scoped kind), as one identity. */
class WatchStream {
  private readonly abort = new AbortController();
  private resourceVersion = '';
  readonly done: Promise<void>;

  constructor(
    private readonly client: KubeClient,
    readonly apiVersion: string,
    readonly kind: string,
    readonly namespace: string,
    private readonly labelSelector: string,
    private readonly owner: DriftWatch,
    private readonly opts: DriftWatchOptions,
  ) {
    this.done = this.run();
  }

  stop(): Promise<void> {
    this.abort.abort();
    return this.done;
  }

  private get what(): string {
    return `${this.kind}${this.namespace ? ` in ${this.namespace}` : ''}`;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const first = this.opts.retryFirstMs ?? 500;
    let delay = first;
    let gap = false; // events may have been missed: queue every owner after the next list
    let listed = false;
    let forbidden = false;
    while (!signal.aborted) {
      try {
        if (!this.resourceVersion) {
          const list = await this.client.listVersioned(
            this.apiVersion,
            this.kind,
            this.namespace || undefined,
            {
              labelSelector: this.labelSelector,
            },
          );
          this.resourceVersion = list.resourceVersion;
          this.owner.listed(this, list.items, !gap && !listed);
          gap = false;
          listed = true;
        }
        await this.client.watch(
          this.apiVersion,
          this.kind,
          this.namespace || undefined,
          {
            labelSelector: this.labelSelector,
            resourceVersion: this.resourceVersion,
            allowWatchBookmarks: 'true',
            timeoutSeconds: String(this.opts.timeoutSeconds ?? 300),
          },
          (type, object) => this.onEvent(type, object),
          signal,
        );
        delay = first; // the server ended the stream: resume from the last resourceVersion
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof GoneError || statusCode(err) === 410) {
          this.opts.log.debug({ watch: this.what }, 'watch expired (410 Gone); relisting');
        } else if (statusCode(err) === 403) {
          // RBAC will not change soon: say it once, try again rarely
          if (!forbidden) {
            this.opts.log.warn(
              { watch: this.what, err: kubeErrorMessage(err) },
              'the tenant may not watch these objects; their drift is found at resync (grant list and watch to watch them)',
            );
          }
          forbidden = true;
          await sleep(10 * (this.opts.retryMaxMs ?? 30_000), signal);
        } else {
          this.opts.log.warn(
            { watch: this.what, err: kubeErrorMessage(err), retryInMs: delay },
            'drift watch failed; drift is still corrected at resync; retrying',
          );
          await sleep(delay, signal);
          delay = Math.min(delay * 2, this.opts.retryMaxMs ?? 30_000);
        }
        this.resourceVersion = '';
        gap = true;
      }
    }
  }

  private onEvent(type: string, object: LiveObject): void {
    if (type === 'ERROR') {
      // a Status object: 410 means our resourceVersion is too old
      if ((object as { code?: number }).code === 410) throw new GoneError('gone');
      throw new Error(`watch error: ${String((object as { message?: string }).message ?? 'unknown')}`);
    }
    const rv = object.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (type === 'BOOKMARK') return;
    this.owner.changed(type, object);
  }
}

export class DriftWatch {
  private readonly inventories = new Map<string, Inventory>();
  /** refKey → assignment key, for every object of every inventory. */
  private readonly owners = new Map<string, string>();
  private readonly streams = new Map<string, WatchStream>();
  /** "uid@resourceVersion" of objects our own applies wrote (bounded). */
  private readonly ownWrites = new Set<string>();
  /** refKey → content (contentOf) of each object as our applies last wrote it (bounded). */
  private readonly ownContent = new Map<string, string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Per queued assignment: the "uid@resourceVersion" of its events, or "" for a deletion or gap. */
  private readonly pending = new Map<string, Set<string>>();
  /** refKey → content of the object as last seen (contentOf), for the objects of the inventories. */
  private readonly seen = new Map<string, string>();
  private stopped = false;

  constructor(private readonly opts: DriftWatchOptions) {}

  /** How many watches are open (for tests and logs). */
  get watches(): number {
    return this.streams.size;
  }

  /** What the watches cover now: "identity kind namespace" per watch. */
  describe(): string[] {
    return [...this.streams.keys()].map((k) => k.split('\0').join(' ')).sort();
  }

  /** An assignment's inventory as a pass left it (undefined: gone). Starts and stops watches. */
  track(tenant: string, assignment: string, inv: Inventory | undefined): void {
    if (this.stopped) return;
    const key = assignmentKey(tenant, assignment);
    if (inv) this.inventories.set(key, inv);
    else this.inventories.delete(key);
    this.resync();
  }

  /** Our applier wrote this object: its own event is not drift. */
  wrote(live: LiveObject): void {
    const uid = live.metadata?.uid;
    const rv = live.metadata?.resourceVersion;
    if (typeof uid !== 'string' || !rv) return;
    if (this.ownWrites.size >= 10_000) this.ownWrites.clear();
    this.ownWrites.add(`${uid}@${rv}`);
    if (this.ownContent.size >= 10_000) this.ownContent.clear();
    this.ownContent.set(refKey(this.refOf(live)), contentOf(live));
  }

  /** An event of a watched object: queue its owner unless it is our own write. */
  changed(type: string, object: LiveObject): void {
    const meta = object.metadata ?? {};
    const ref = refKey(this.refOf(object));
    const owner = this.owners.get(ref);
    if (!owner) return;
    if (type === 'DELETED') this.seen.delete(ref);
    else {
      const content = contentOf(object);
      const before = this.seen.get(ref);
      this.seen.set(ref, content);
      // only its status (or bookkeeping) changed: not drift
      if (type === 'MODIFIED' && before === content) return;
    }
    this.opts.log.debug(
      { event: type, object: refKey(this.refOf(object)), assignment: owner },
      'applied object changed',
    );
    // whether it is our own write is decided when the debounce ends: the watch may deliver the
    // event before the apply's own response has arrived
    this.queue(owner, type === 'DELETED' ? '' : `${String(meta.uid)}@${String(meta.resourceVersion)}`);
  }

  /**
   * A list of a watch. Each owned object's content is remembered (a later status-only change is not
   * drift). On the first list of a new watch, a change made between the apply and the list shows
   * in no event: the owners of listed objects whose content is not what our applies wrote, and of
   * inventory objects the list lacks (deleted meanwhile), are queued. After a gap every owner of an
   * object in the watch may have missed a change: all are queued. A pass that finds nothing
   * drifted writes nothing.
   */
  listed(stream: WatchStream, items: LiveObject[], first: boolean): void {
    const present = new Set<string>();
    for (const item of items) {
      const ref = refKey(this.refOf(item));
      present.add(ref);
      const owner = this.owners.get(ref);
      if (!owner) continue;
      const content = contentOf(item);
      this.seen.set(ref, content);
      if (!first) continue;
      const version = `${String(item.metadata?.uid)}@${String(item.metadata?.resourceVersion)}`;
      // a newer version than ours whose content is what we wrote: only its status moved on
      if (!this.ownWrites.has(version) && this.ownContent.get(ref) !== content) this.queue(owner, '');
    }
    for (const [ref, owner] of this.owners) {
      const [, kind, namespace] = ref.split('/');
      if (kind !== stream.kind || namespace !== stream.namespace) continue;
      if (!first || !present.has(ref)) this.queue(owner, '');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.pending.clear();
    const streams = [...this.streams.values()];
    this.streams.clear();
    await Promise.all(streams.map((s) => s.stop()));
  }

  private refOf(object: LiveObject): ObjectRef {
    return {
      apiVersion: String(object.apiVersion ?? ''),
      kind: String(object.kind ?? ''),
      namespace: typeof object.metadata?.namespace === 'string' ? object.metadata.namespace : '',
      name: String(object.metadata?.name ?? ''),
    };
  }

  private queue(key: string, event: string): void {
    if (this.stopped) return;
    let events = this.pending.get(key);
    if (!events) this.pending.set(key, (events = new Set()));
    events.add(event);
    if (this.timers.has(key)) return;
    const t = setTimeout(() => this.decide(key), this.opts.debounceMs ?? 250);
    t.unref?.();
    this.timers.set(key, t);
  }

  /** The debounce of an assignment ended: queue it if anything but our own writes changed. */
  private decide(key: string): void {
    this.timers.delete(key);
    if (this.stopped) return;
    if (this.opts.busy?.(key)) {
      // its pass may still be waiting for the responses of writes the watch already showed
      const t = setTimeout(() => this.decide(key), this.opts.debounceMs ?? 250);
      t.unref?.();
      this.timers.set(key, t);
      return;
    }
    const seen = [...(this.pending.get(key) ?? [])];
    this.pending.delete(key);
    // only our own writes: nothing drifted
    const foreign = seen.filter((e) => e === '' || !this.ownWrites.has(e));
    for (const e of seen) this.ownWrites.delete(e);
    if (foreign.length > 0) this.opts.onDrift(key);
  }

  /** Makes the open watches those the inventories need now. */
  private resync(): void {
    this.owners.clear();
    const owned = new Set<string>();
    const wanted = new Map<string, { identity: string; tenant: string; ref: ObjectRef }>();
    for (const [key, inv] of this.inventories) {
      for (const ref of inv.objects) {
        this.owners.set(refKey(ref), key);
        owned.add(refKey(ref));
        const identity = inv.serviceAccount;
        if (!identity) continue;
        const k = [identity, ref.apiVersion, ref.kind, ref.namespace, inv.tenant].join('\0');
        if (!wanted.has(k)) wanted.set(k, { identity, tenant: inv.tenant, ref });
      }
    }
    for (const ref of this.seen.keys()) if (!owned.has(ref)) this.seen.delete(ref);
    for (const [k, s] of this.streams) {
      if (!wanted.has(k)) {
        this.streams.delete(k);
        void s.stop();
      }
    }
    for (const [k, w] of wanted) {
      if (this.streams.has(k)) continue;
      const client = this.opts.kube.impersonate(w.identity);
      this.streams.set(
        k,
        new WatchStream(
          client,
          w.ref.apiVersion,
          w.ref.kind,
          w.ref.namespace,
          `${LABEL_TENANT}=${labelValue(w.tenant)}`,
          this,
          this.opts,
        ),
      );
    }
    this.opts.log.debug({ watches: this.streams.size }, 'drift watches');
  }
}

/**
 * What an applied object holds apart from its status and the metadata the server keeps on every
 * write (resourceVersion, managedFields, generation), as a digest: equal before and after an
 * event that changed only those.
 */
export function contentOf(object: LiveObject): string {
  const { status: _status, metadata, ...rest } = object as Record<string, unknown>;
  const {
    resourceVersion: _rv,
    managedFields: _mf,
    generation: _g,
    ...meta
  } = (metadata ?? {}) as Record<string, unknown>;
  return createHash('sha256')
    .update(JSON.stringify({ ...rest, metadata: meta }))
    .digest('base64');
}
