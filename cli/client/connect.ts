// The CLI's connection to the hub: the typed client beside this file, with gRPC errors turned
// into one clear line.
import { readFileSync } from 'node:fs';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { createHubClient, type HubClient } from './hub-client.js';

/** How the CLI reaches the hub: its address and the TLS to use. */
export interface HubTarget {
  address: string;
  /** A CA file to trust (--ca / GITFLEET_CA); implies TLS. */
  caFile?: string;
  /** TLS with the system's roots (--tls). */
  tls?: boolean;
  /** Bearer token (--token / GITFLEET_TOKEN). */
  token?: string;
}

export type { HubClient };

function isServiceError(err: unknown): err is ServiceError {
  return typeof err === 'object' && err !== null && 'code' in err && 'details' in err;
}

/** One line for a failed call: the gRPC code and the hub's message, or how to reach the hub. */
export function describeHubError(err: unknown, target: HubTarget): Error {
  const address = target.address;
  if (!isServiceError(err)) return err instanceof Error ? err : new Error(String(err));
  const name = GrpcStatus[err.code] ?? String(err.code);
  if (err.code === GrpcStatus.UNAVAILABLE || err.code === GrpcStatus.DEADLINE_EXCEEDED) {
    const tlsHint =
      target.caFile || target.tls
        ? '; check that the hub serves TLS with a certificate for this address signed by that CA'
        : '; if the hub serves TLS, pass --ca FILE (or GITFLEET_CA) or --tls';
    return new Error(
      `cannot reach the hub at ${address} (${err.details || name}): start it with \`gitfleet hub\` or point --hub / GITFLEET_HUB at it${tlsHint}`,
    );
  }
  return new Error(`${name}: ${err.details || err.message}`);
}

/**
 * grpc-js passes the hub's IP address as the TLS server name, which RFC 6066 forbids, so Node
 * warns (DEP0123) on a TLS call to e.g. 127.0.0.1. The certificate is still verified against the
 * address (its IP SAN): the warning would only clutter the CLI's one-line output.
 */
function silenceIpServerNameWarning(): void {
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    const code = typeof rest[0] === 'object' ? (rest[0] as { code?: string } | null)?.code : rest[1];
    if (code === 'DEP0123') return;
    emit(warning, ...rest);
  }) as typeof process.emitWarning;
}

export function connectHub(target: HubTarget): HubClient {
  if (target.caFile || target.tls) silenceIpServerNameWarning();
  let tls: true | Buffer | undefined = target.tls ? true : undefined;
  if (target.caFile) {
    try {
      tls = readFileSync(target.caFile);
    } catch (err) {
      throw new Error(
        `--ca ${target.caFile}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`,
      );
    }
  }
  return createHubClient(target.address, { deadlineMs: 15_000, tls, token: target.token });
}
