// Kubernetes Events about assignments, on each assignment's inventory ConfigMap (in the agent's
// namespace, written as the agent), so `kubectl get events -n <agent namespace>` tells the same
// story as `gitfleet status`: failures (Warning), and applies that changed something, prunes
// included (Normal). Like client-go's event correlator, a repeated event is one Event whose count
// grows: its name is derived from what it says, and it is written at most once per interval
// however often it happens (a failure on every retry does not flood the API server).
import { createHash } from 'node:crypto';
import { AssignmentState, Reason, type AssignmentStatus } from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import { inventoryName } from '../apply/inventory.js';
import { errorMessage } from '../errors.js';
import type { KubeClient, LiveObject } from '../kube/kube-client.js';

/** The component named as the source of every Event the agent records. */
export const REPORTING_CONTROLLER = 'gitfleet-agent';

const MAX_MESSAGE = 1024;
const MAX_NAME = 253;

export interface AssignmentEvent {
  tenant: string;
  assignment: string;
  type: 'Normal' | 'Warning';
  /** The status's reason (event reasons equal condition reasons). */
  reason: string;
  message: string;
}

export interface EventRecorderOptions {
  /** The agent's own identity (it owns its namespace's Events). */
  client: KubeClient;
  /** The agent's namespace, where inventories live. */
  namespace: string;
  /** The agent's instance (its cluster name), as reportingInstance. */
  instance: string;
  log: Logger;
  /** A repeated event is written at most once per this interval (default 60 s). */
  minIntervalMs?: number;
  now?: () => number;
}

interface Seen {
  count: number;
  firstMs: number;
  lastMs: number;
  /** Count last written (0: never). */
  written: number;
  /** The count of the same Event written before this agent started (read once). */
  base?: number;
  writtenAtMs: number;
  timer?: NodeJS.Timeout;
  event: AssignmentEvent;
}

/** The event a pass's status calls for, if any: failures, and passes that changed something. */
export function eventOf(s: AssignmentStatus): AssignmentEvent | undefined {
  const base = { tenant: s.tenant, assignment: s.assignment, reason: s.reason, message: s.message };
  if (s.state === AssignmentState.ASSIGNMENT_STATE_FAILED) return { ...base, type: 'Warning' };
  const c = s.changes;
  const changed = (c?.created ?? 0) + (c?.configured ?? 0) + (c?.deleted ?? 0) > 0;
  if (s.state === AssignmentState.ASSIGNMENT_STATE_READY && changed) return { ...base, type: 'Normal' };
  if (s.reason === Reason.Deleted) return { ...base, type: 'Normal' };
  return undefined;
}

function hash(s: string, n: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

/** The Event's name: the inventory's name and a hash of what the event says. */
export function eventName(e: AssignmentEvent): string {
  const inv = inventoryName(e.tenant, e.assignment);
  const h = hash(`${e.type}\0${e.reason}\0${e.message}`, 16);
  const name = `${inv}.${h}`;
  return name.length <= MAX_NAME ? name : `gitfleet-event.${hash(`${inv}\0${h}`, 32)}`;
}

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private stopped = false;

  constructor(private readonly opts: EventRecorderOptions) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** Records the event of a status (if it calls for one). Never throws; failures are logged. */
  recordStatus(status: AssignmentStatus): void {
    const e = eventOf(status);
    if (e) this.record(e);
  }

  record(e: AssignmentEvent): void {
    if (this.stopped) return;
    const name = eventName(e);
    const now = this.now();
    let s = this.seen.get(name);
    if (!s) {
      s = { count: 0, firstMs: now, lastMs: now, written: 0, writtenAtMs: 0, event: e };
      this.seen.set(name, s);
    }
    s.count++;
    s.lastMs = now;
    const interval = this.opts.minIntervalMs ?? 60_000;
    const due = s.writtenAtMs + interval - now;
    if (s.written === 0 || due <= 0) void this.write(name, s);
    else if (!s.timer) {
      // write the grown count once the interval has passed
      s.timer = setTimeout(() => {
        s!.timer = undefined;
        void this.write(name, s!);
      }, due);
      s.timer.unref?.();
    }
    this.forgetOld(now, interval);
  }

  /** Stops pending writes. */
  stop(): void {
    this.stopped = true;
    for (const s of this.seen.values()) if (s.timer) clearTimeout(s.timer);
  }

  private async write(name: string, s: Seen): Promise<void> {
    if (this.stopped || s.count === s.written) return;
    const count = s.count;
    s.written = count;
    s.writtenAtMs = this.now();
    const { client, namespace } = this.opts;
    const e = s.event;
    const involved = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace,
      name: inventoryName(e.tenant, e.assignment),
    };
    try {
      if (s.base === undefined) {
        // an agent that restarted continues the count of the Event it wrote before
        const existing = await client.get({ apiVersion: 'v1', kind: 'Event', namespace, name });
        s.base = Number(existing?.count) || 0;
        const first = Date.parse(String(existing?.firstTimestamp ?? ''));
        if (Number.isFinite(first)) s.firstMs = first;
      }
      const inventory: LiveObject | undefined = await client.get(involved).catch(() => undefined);
      await client.apply({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          ...involved,
          ...(inventory?.metadata?.uid ? { uid: String(inventory.metadata.uid) } : {}),
        },
        type: e.type,
        reason: e.reason,
        message: e.message.length > MAX_MESSAGE ? `${e.message.slice(0, MAX_MESSAGE - 1)}…` : e.message,
        source: { component: REPORTING_CONTROLLER },
        reportingComponent: REPORTING_CONTROLLER,
        reportingInstance: this.opts.instance,
        firstTimestamp: timestamp(s.firstMs),
        lastTimestamp: timestamp(s.lastMs),
        count: s.base + count,
      });
    } catch (err) {
      s.written = 0; // try again with the next occurrence
      this.opts.log.warn({ event: name, err: errorMessage(err) }, 'could not record a Kubernetes Event');
    }
  }

  /** Drops what is remembered of events not seen for a long time (bounded memory). */
  private forgetOld(now: number, interval: number): void {
    if (this.seen.size < 1000) return;
    for (const [name, s] of this.seen) {
      if (!s.timer && now - s.lastMs > 10 * interval) this.seen.delete(name);
    }
  }
}

/** RFC 3339 with seconds, as core/v1 Event timestamps are. */
function timestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
