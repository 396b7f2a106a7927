// Whether a cluster's agent is there, from its last heartbeat: Online while one came within the
// hub's --cluster-offline-after, Offline after, Unknown before the first. Computed when a cluster
// is read, so a cluster is back Online with the heartbeat that returns, with nothing to store.
import type { Cluster } from '../../proto/index.js';

export const CLUSTER_ONLINE = 'Online';
export const CLUSTER_OFFLINE = 'Offline';
export const CLUSTER_UNKNOWN = 'Unknown';

export function clusterState(lastHeartbeatMs: number, nowMs: number, offlineAfterMs: number): string {
  if (!lastHeartbeatMs) return CLUSTER_UNKNOWN;
  return nowMs - lastHeartbeatMs > offlineAfterMs ? CLUSTER_OFFLINE : CLUSTER_ONLINE;
}

/** The cluster with its state as of `nowMs`. */
export function withLiveness(c: Cluster, nowMs: number, offlineAfterMs: number): Cluster {
  return { ...c, state: clusterState(c.lastHeartbeatMs, nowMs, offlineAfterMs) };
}
