// The hub's entry point: wires the Nest application and nothing else.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { createLogger } from '../lib/log.js';
import { GrpcExceptionFilter } from './common/grpc-exception.filter.js';
import { PinoNestLogger } from './common/nest-logger.js';
import { hostPort, parseHubConfig, type HubConfig } from './config/hub-config.js';
import { grpcServerOptions, HubGrpcServer } from './grpc-options.js';
import { HubModule } from './hub.module.js';
import { WebhookServer } from './webhooks/webhook-server.service.js';

export type { HubConfig } from './config/hub-config.js';
export { ConfigError } from './config/hub-config.js';
/** `gitfleet bus init`: the bus's keys and server configuration. */
export { initBus, BusKeysError, type BusInitOptions, type BusInitResult } from './bus/bus-keys.js';

export interface RunningHub {
  /** "host:port" the gRPC API listens on (the picked port when the config said 0). */
  address: string;
  /** "host:port" of the webhook listener (the picked port for port 0); undefined when off. */
  webhookAddress: string | undefined;
  /** Drains NATS, stops the gRPC server, closes the store. Idempotent. */
  close(): Promise<void>;
}

/** Starts a hub. Rejects with a ConfigError for a bad config, or the first start-up failure. */
export async function startHub(config: HubConfig): Promise<RunningHub> {
  const resolved = parseHubConfig(config);
  const log = createLogger('hub', resolved.logLevel);
  const url = hostPort(resolved.listen.host, resolved.listen.port);
  const server = new HubGrpcServer(grpcServerOptions(url, resolved.tls));
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(HubModule.forRoot(resolved, log), {
    strategy: server,
    logger: new PinoNestLogger(log.child({ module: 'nest' })),
    abortOnError: false,
  });
  app.useGlobalFilters(new GrpcExceptionFilter(log.child({ module: 'grpc' })));
  app.enableShutdownHooks();
  try {
    await app.listen();
  } catch (err) {
    await app.close().catch(() => undefined);
    throw new Error(`gitfleet hub cannot start on ${url}: ${(err as Error).message}`, { cause: err });
  }
  const address = hostPort(resolved.listen.host, server.port);
  const webhookAddress = app.get(WebhookServer, { strict: false }).address;
  log.info({ address, tls: resolved.tls !== undefined, webhooks: webhookAddress }, 'hub listening');
  let closing: Promise<void> | undefined;
  return {
    address,
    webhookAddress,
    close: () => {
      closing ??= app.close().then(() => log.info({ address }, 'hub stopped'));
      return closing;
    },
  };
}
