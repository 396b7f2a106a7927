// The one place that names NATS subjects, streams, buckets and keys. Hub, agent, tests and
// benchmarks build every name through here, so that the per-agent permissions of the security
// work (an agent may read only its own key and publish only its own status subjects) follow
// from these builders alone.
import { isDnsLabel } from '../../lib/names.js';

/** JetStream KV bucket holding one DesiredSet per cluster, keyed by cluster name. */
export const DESIRED_BUCKET = 'gitfleet-desired';

/**
 * JetStream KV bucket of the hub's own bookkeeping on the bus (only the hub reads or writes it).
 * Key BUS_OWNER_KEY records which hub store owns the desired sets: a hub with another (or an
 * empty) store must not delete or overwrite keys it does not know.
 */
export const HUB_BUCKET = 'gitfleet-hub';

/** Key in HUB_BUCKET of the bus's owner: JSON { storeId, claimedAtMs }. */
export const BUS_OWNER_KEY = 'bus-owner';

/**
 * NATS's default max_payload (1 MiB). The hub reads the server's actual limit from the connection
 * and uses this only before it has connected.
 */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** Bytes of a desired-set message kept free for the KV subject and headers under max_payload. */
export const DESIRED_SET_HEADROOM = 4096;

/** Largest encoded desired set the hub publishes on a server with this max_payload. */
export function desiredSetLimit(maxPayload: number): number {
  return Math.max(0, maxPayload - DESIRED_SET_HEADROOM);
}

/** JetStream stream that carries agents' StatusReport and Heartbeat messages to the hub. */
export const STATUS_STREAM = 'GITFLEET_STATUS';

/** Durable consumer name of the hub on the status stream. */
export const STATUS_CONSUMER = 'gitfleet-hub';

const STATUS_PREFIX = 'gitfleet.status';

/** Cluster names are DNS-1123 labels: safe as KV keys and as single subject tokens. */
export function assertClusterName(name: string): string {
  if (typeof name !== 'string' || !isDnsLabel(name)) {
    throw new Error(
      `invalid cluster name ${JSON.stringify(name)}: use lowercase letters, digits and '-' (DNS-1123 label, at most 63 characters)`,
    );
  }
  return name;
}

/** KV key of a cluster's desired set. */
export function desiredKey(cluster: string): string {
  return assertClusterName(cluster);
}

/** Raw subject a KV put of `key` in `bucket` is published on. */
export function kvSubject(bucket: string, key: string): string {
  return `$KV.${bucket}.${key}`;
}

/** Raw subject a KV put of the cluster's desired set is published on (for direct subscriptions). */
export function desiredSubject(cluster: string): string {
  return kvSubject(DESIRED_BUCKET, desiredKey(cluster));
}

/** The JetStream stream behind a KV bucket. */
export function kvStream(bucket: string): string {
  return `KV_${bucket}`;
}

/**
 * JetStream API subject of a direct get on a bucket's stream (the bucket allows direct gets): with
 * a key's subject appended (desiredDirectGetSubject) it reads that key without a consumer.
 */
export function directGetSubject(bucket: string = DESIRED_BUCKET): string {
  return `$JS.API.DIRECT.GET.${kvStream(bucket)}`;
}

/**
 * Direct get of the last value of a cluster's key with the key's subject in the API subject and no
 * payload. This form lets the server's permissions decide which key a client may read (a payload
 * `last_by_subj` could name any key), so it is the only read an agent is allowed.
 */
export function desiredDirectGetSubject(cluster: string): string {
  return `${directGetSubject(DESIRED_BUCKET)}.${desiredSubject(cluster)}`;
}

/** Inbox prefix of a cluster's agent: replies to its requests reach it only under this prefix. */
export function agentInboxPrefix(cluster: string): string {
  return `_INBOX_${assertClusterName(cluster)}`;
}

const CONTROL_PREFIX = 'gitfleet.control';

/** Subject the hub sends AgentRequests (reconcile, diff, tree) to one cluster's agent on. */
export function controlSubject(cluster: string): string {
  return `${CONTROL_PREFIX}.${assertClusterName(cluster)}`;
}

/** Longest a hub waits for an agent's answer to a control request (and the longest timeout asked for). */
export const MAX_CONTROL_TIMEOUT_MS = 600_000;

/** Largest AgentRequest an agent reads; anything bigger is refused unread. */
export const MAX_AGENT_REQUEST_BYTES = 4096;

/**
 * How an agent may answer control requests: one reply per request received, on the reply subject
 * the request named, until MAX_CONTROL_TIMEOUT_MS has passed (NATS `allow_responses`). It may
 * publish on no other reply subject.
 */
export const AGENT_RESPONSE_PERMISSION = { max: 1, ttlMs: MAX_CONTROL_TIMEOUT_MS } as const;

/** What a cluster's agent may do on an authenticated bus: its NATS user's permissions. */
export interface AgentBusPermissions {
  publish: string[];
  subscribe: string[];
  /** Answers to requests it received (see AGENT_RESPONSE_PERMISSION). */
  responses: { max: number; ttlMs: number };
}

/**
 * The permissions of a cluster's agent: read (direct get, and watch the raw subject of) its own
 * desired-set key; publish its own status and heartbeat subjects; receive replies on its own
 * inbox; receive the hub's control requests on its own control subject and answer each once.
 * Nothing else: no other key, no KV put, no JetStream API besides that one get.
 */
export function agentBusPermissions(cluster: string): AgentBusPermissions {
  return {
    publish: [desiredDirectGetSubject(cluster), clusterStatusSubjects(cluster)],
    subscribe: [desiredSubject(cluster), `${agentInboxPrefix(cluster)}.>`, controlSubject(cluster)],
    responses: { ...AGENT_RESPONSE_PERMISSION },
  };
}

/** Every subject of the status stream. */
export const STATUS_SUBJECTS = `${STATUS_PREFIX}.>`;

/** All status subjects one cluster's agent may publish to. */
export function clusterStatusSubjects(cluster: string): string {
  return `${STATUS_PREFIX}.${assertClusterName(cluster)}.>`;
}

/** Subject of an assignment status report from a cluster. */
export function assignmentStatusSubject(cluster: string): string {
  return `${STATUS_PREFIX}.${assertClusterName(cluster)}.assignment`;
}

/** Subject of a cluster's heartbeat. */
export function heartbeatSubject(cluster: string): string {
  return `${STATUS_PREFIX}.${assertClusterName(cluster)}.heartbeat`;
}

export type StatusSubjectKind = 'assignment' | 'heartbeat';

/** Parses a status subject back into cluster and kind; undefined for anything else. */
export function parseStatusSubject(
  subject: string,
): { cluster: string; kind: StatusSubjectKind } | undefined {
  const parts = subject.split('.');
  if (parts.length !== 4 || `${parts[0]}.${parts[1]}` !== STATUS_PREFIX) return undefined;
  const [, , cluster, kind] = parts;
  if (!isDnsLabel(cluster) || (kind !== 'assignment' && kind !== 'heartbeat')) return undefined;
  return { cluster, kind };
}
