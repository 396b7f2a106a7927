// Shared set-up of the hub integration suites: a hub on a free port with its store in a temp
// dir, a typed gRPC client, and a NATS connection of the test's own to look at the bus.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { ServiceError } from '@grpc/grpc-js';
import { DESIRED_BUCKET, DesiredSet, desiredKey, kvStream } from '../../../proto/index.js';
import { createHubClient, type HubClient } from '../../../cli/client/hub-client.js';
import { startHub, type HubConfig, type RunningHub } from '../../../hub/main.js';
import { newToken } from '../../../hub/auth/token.js';

export { eventually } from '../../env/index.js';

export interface TestHub {
  hub: RunningHub;
  /** A client with the admin token. */
  client: HubClient;
  /** The admin token. */
  token: string;
  /** Closes client and hub (idempotent). */
  stop(): Promise<void>;
}

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh admin token for a test hub (registered at start through `adminToken`). */
export function testAdminToken(): string {
  return newToken().secret;
}

export async function startTestHub(
  config: Partial<HubConfig> & { natsUrl: string; db: string },
): Promise<TestHub> {
  const adminToken = config.adminToken ?? (config.adminTokenFile ? undefined : testAdminToken());
  const hub = await startHub({
    listen: '127.0.0.1:0',
    logLevel: process.env.GITFLEET_LOG_LEVEL ?? 'error',
    adminToken,
    ...config,
  });
  const token = adminToken ?? readFileSync(config.adminTokenFile!, 'utf8').trim();
  const client = createHubClient(hub.address, { deadlineMs: 60_000, token });
  let stopped = false;
  return {
    hub,
    client,
    token,
    async stop() {
      if (stopped) return;
      stopped = true;
      client.close();
      await hub.close();
    },
  };
}

/** The test's own view of the bus. */
export interface BusProbe {
  nc: NatsConnection;
  js: JetStreamClient;
  kv(): Promise<KV>;
  /** The desired set stored for a cluster and its KV revision, or undefined. */
  desired(cluster: string): Promise<{ set: DesiredSet; revision: number } | undefined>;
  /** Sequence of the last write to the desired bucket (counts every put and delete). */
  desiredLastSeq(): Promise<number>;
  close(): Promise<void>;
}

export async function busProbe(url: string): Promise<BusProbe> {
  const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  const js = jetstream(nc);
  let kv: KV | undefined;
  const open = async () => (kv ??= await new Kvm(js).open(DESIRED_BUCKET));
  return {
    nc,
    js,
    kv: open,
    async desired(cluster) {
      const entry = await (await open()).get(desiredKey(cluster));
      if (!entry || entry.operation !== 'PUT') return undefined;
      return { set: DesiredSet.decode(entry.value), revision: entry.revision };
    },
    async desiredLastSeq() {
      const jsm = await jetstreamManager(nc);
      return (await jsm.streams.info(kvStream(DESIRED_BUCKET))).state.last_seq;
    },
    close: () => nc.close(),
  };
}

/** The gRPC error a call failed with (fails the test when it succeeded). */
export async function grpcError(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}
