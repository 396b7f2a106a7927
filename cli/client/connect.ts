// The CLI's connection to the hub: the typed client beside this file, with gRPC errors turned
// into one clear line.
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { createHubClient, type HubClient } from './hub-client.js';

export type { HubClient };

function isServiceError(err: unknown): err is ServiceError {
  return typeof err === 'object' && err !== null && 'code' in err && 'details' in err;
}

/** One line for a failed call: the gRPC code and the hub's message, or how to reach the hub. */
export function describeHubError(err: unknown, address: string): Error {
  if (!isServiceError(err)) return err instanceof Error ? err : new Error(String(err));
  const name = GrpcStatus[err.code] ?? String(err.code);
  if (err.code === GrpcStatus.UNAVAILABLE || err.code === GrpcStatus.DEADLINE_EXCEEDED) {
    return new Error(
      `cannot reach the hub at ${address} (${err.details || name}): start it with \`gitfleet hub\` or point --hub / GITFLEET_HUB at it`,
    );
  }
  return new Error(`${name}: ${err.details || err.message}`);
}

export function connectHub(address: string): HubClient {
  return createHubClient(address, { deadlineMs: 15_000 });
}
