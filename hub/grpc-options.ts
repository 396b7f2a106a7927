// The gRPC transport of the hub, in one place for main.ts and the tests: proto files, the
// proto-loader options Nest decodes requests with, and a ServerGrpc that reports its bound port
// (so "host:0" can pick a free port).
import { join } from 'node:path';
import { Server as GrpcJsServer, ServerCredentials } from '@grpc/grpc-js';
import { ServerGrpc, type GrpcOptions } from '@nestjs/microservices';
import { API_PROTO_FILES, PROTO_ROOT } from '../proto/index.js';
import { GITFLEET_V1_PACKAGE_NAME } from '../proto/nest.js';
import type { TlsConfig } from './config/hub-config.js';

/**
 * @grpc/proto-loader options: int64 as JS numbers (times are int64 ms), enums as numbers (as
 * ts-proto's enums), defaults filled in, camelCase fields (as ts-proto's interfaces).
 */
export const GRPC_LOADER_OPTIONS = {
  keepCase: false,
  longs: Number,
  enums: Number,
  defaults: true,
  arrays: true,
  objects: true,
  includeDirs: [PROTO_ROOT],
};

export type HubGrpcOptions = GrpcOptions['options'];

/** Server credentials: TLS with the hub's certificate, or plaintext (see parseTls for when). */
export function serverCredentials(tls: TlsConfig | undefined): ServerCredentials {
  return tls
    ? ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false)
    : ServerCredentials.createInsecure();
}

export function grpcServerOptions(url: string, tls?: TlsConfig): HubGrpcOptions {
  return {
    url,
    credentials: serverCredentials(tls),
    package: GITFLEET_V1_PACKAGE_NAME,
    protoPath: API_PROTO_FILES.map((f) => join(PROTO_ROOT, f)),
    loader: GRPC_LOADER_OPTIONS,
    // close() cancels open streams (WatchStatus) instead of waiting for clients to hang up
    gracefulShutdown: false,
  };
}

/** Nest's gRPC server, remembering the port it bound (the one picked for port 0). */
export class HubGrpcServer extends ServerGrpc {
  private boundPort: number | undefined;

  constructor(private readonly hubOptions: HubGrpcOptions) {
    super(hubOptions);
  }

  get port(): number {
    if (this.boundPort === undefined) throw new Error('the gRPC server is not listening');
    return this.boundPort;
  }

  override async createClient(): Promise<GrpcJsServer> {
    const server = new GrpcJsServer({ ...(this.hubOptions.channelOptions ?? {}) });
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(this.url, this.hubOptions.credentials ?? serverCredentials(undefined), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    return server;
  }
}
