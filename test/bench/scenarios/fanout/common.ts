// What the fanout scenario's phases share: the fleet's names, how simulated agents connect, the
// size of a desired set on the bus, and the result of one size that the phases fill in.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AGENT_NATS_OPTIONS } from '../../../../agent/bus/hub-connection.js';
import { DesiredSet } from '../../../../proto/index.js';
import type { Distribution } from '../../lib/stats.js';
import type { FloorResult } from './floor.js';

/** Watchers per bench NATS connection (the scale notes' 10,000 on one connection). */
export const WATCHERS_PER_CONNECTION = 10_000;
/** CreateCluster calls in flight during registration. */
export const REGISTER_CONCURRENCY = 32;
export const GOAL_RATIO = 1.5;

export const LABELS = { fleet: 'bench' };
export const TENANT = 'fleet';
export const REPO = 'apps';
export const ASSIGNMENT = 'fleet-apps';

export function clusterName(i: number): string {
  return `c-${String(i + 1).padStart(6, '0')}`;
}

export function connectAgents(url: string, name: string): Promise<NatsConnection> {
  return connect({ servers: [url], name, ...AGENT_NATS_OPTIONS });
}

/** The encoded size of the desired set the hub publishes below (the floor's values are as big). */
export function desiredSetBytes(n: number): number {
  return DesiredSet.encode({
    cluster: clusterName(n - 1),
    generation: 3,
    tenants: [
      {
        name: TENANT,
        namespaces: [TENANT],
        serviceAccount: 'gitfleet-reconciler',
        clusterRole: 'admin',
        allowedClusterKinds: [],
      },
    ],
    assignments: [
      {
        tenant: TENANT,
        name: ASSIGNMENT,
        repo: REPO,
        source: {
          type: 'git',
          url: 'http://127.0.0.1:40000/fleet.git',
          revision: `main@sha1:${'a'.repeat(40)}`,
          commit: 'a'.repeat(40),
          credentials: undefined,
          digest: '',
        },
        path: 'apps-v2',
        targetNamespace: TENANT,
        prune: false,
        suspend: false,
        renderer: 'auto',
        helm: undefined,
        substitute: undefined,
        decryptionSecret: '',
        health: undefined,
        dependsOn: [],
        retryIntervalSeconds: 0,
        drift: undefined,
        force: false,
      },
    ],
    publishedAtMs: Date.now(),
    maintenanceWindows: [],
  }).finish().length;
}

export interface SizeResult {
  n: number;
  connections: number;
  floor?: FloorResult;
  registration?: {
    ms: number;
    perSecond: number;
    publishedMs: number;
    hubRssMiB?: number;
    hubCpuMs?: number;
  };
  watchersUpMs?: number;
  firstDesired?: Distribution;
  change?: {
    apiMs: number;
    fanout: Distribution;
    missing: number;
    hubCpuMs?: number;
    hubPeakRssMiB?: number;
    hubRssMiB?: number;
  };
  reconnect?: {
    restartMs: number;
    allReReadFromRestartMs: number;
    allReReadFromServerUpMs: number;
    errors: Record<string, number>;
    errorTotal: number;
    missing: number;
  };
  watcherErrorsBeforeReconnect?: Record<string, number>;
  /** CPU ms per process (bench, hub, nats-server) per phase. */
  cpu: Record<string, Record<string, number>>;
  benchRssMiB?: number;
  stoppedAt?: string;
  error?: string;
}
