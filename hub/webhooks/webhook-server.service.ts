// The webhook receivers' HTTP listener (`gitfleet hub --webhook-listen`), started and stopped
// with the hub. Plain node:http: POST /hook/<id> only (everything else 404), bodies up to 1 MiB
// (413 beyond), header and request timeouts, short plain-text answers without internals. TLS is
// the ingress's job: webhooks reach a hub through one.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '../../lib/log.js';
import { HUB_CONFIG, HUB_LOGGER } from '../config/config.module.js';
import { hostPort, type ResolvedHubConfig } from '../config/hub-config.js';
import { WebhookDeliveriesService, type DeliveryAnswer } from './webhook-deliveries.service.js';

/** Largest body accepted (GitHub caps payloads at 25 MB, but a push's is a few KiB). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** A body this much over the limit is not drained any longer: the connection is cut. */
const MAX_DRAIN_BYTES = 8 * MAX_BODY_BYTES;
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

const PATH = /^\/hook\/([^/?#]*)$/;

@Injectable()
export class WebhookServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log: Logger;
  private server: Server | undefined;
  private bound: string | undefined;

  constructor(
    @Inject(HUB_CONFIG) private readonly config: Pick<ResolvedHubConfig, 'webhookListen'>,
    @Inject(WebhookDeliveriesService) private readonly deliveries: WebhookDeliveriesService,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'webhooks' });
  }

  /** "host:port" the listener is bound to (the picked port for port 0); undefined when off. */
  get address(): string | undefined {
    return this.bound;
  }

  async onApplicationBootstrap(): Promise<void> {
    const listen = this.config.webhookListen;
    if (!listen) return;
    const server = createServer(
      {
        headersTimeout: HEADERS_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
        // how often the two timeouts are enforced (node's default, 30 s, would let a slow client stay 40 s)
        connectionsCheckingInterval: 1_000,
        maxHeaderSize: 16 * 1024,
      },
      (req, res) => void this.serve(req, res),
    );
    server.keepAliveTimeout = 5_000;
    server.maxConnections = 1024;
    // malformed requests, oversized headers and timeouts get node's own 400, 431 and 408
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(new Error(`webhook listener on ${hostPort(listen.host, listen.port)}: ${err.message}`)),
      );
      server.listen(listen.port, listen.host, () => resolve());
    });
    this.server = server;
    this.bound = hostPort(listen.host, (server.address() as AddressInfo).port);
    this.log.info(
      { address: this.bound },
      'webhook receivers listening (plain HTTP: terminate TLS in front)',
    );
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const m = PATH.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) {
        req.resume();
        return this.answer(res, { status: 404, message: 'not found' });
      }
      const length = Number(req.headers['content-length'] ?? 0);
      const body = length > MAX_BODY_BYTES ? undefined : await this.readBody(req);
      if (!body) {
        this.log.warn(
          { remote: req.socket.remoteAddress, bytes: length || undefined },
          'webhook body too large',
        );
        return this.drainThen(req, res, {
          status: 413,
          message: `body too large (at most ${MAX_BODY_BYTES} bytes)`,
        });
      }
      this.answer(res, await this.deliveries.handle(m[1], req.headers, body, req.socket.remoteAddress ?? ''));
    } catch (err) {
      this.log.error({ err }, 'webhook delivery failed');
      if (!res.headersSent) this.answer(res, { status: 500, message: 'internal error' });
      else res.destroy();
    }
  }

  /** The body, or undefined once it passes MAX_BODY_BYTES (the rest is left unread). */
  private readBody(req: IncomingMessage): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          req.off('data', onData);
          req.off('end', onEnd);
          req.pause();
          resolve(undefined);
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = () => resolve(Buffer.concat(chunks));
      req.on('data', onData);
      req.once('end', onEnd);
      req.once('error', reject);
    });
  }

  /**
   * Answers after reading (and dropping) the rest of the body, so the sender sees the answer
   * instead of a reset; a body far over the limit gets the connection cut.
   */
  private drainThen(req: IncomingMessage, res: ServerResponse, answer: DeliveryAnswer): void {
    let drained = 0;
    req.on('data', (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > MAX_DRAIN_BYTES) req.socket.destroy();
    });
    req.once('end', () => this.answer(res, answer, true));
    req.resume();
  }

  private answer(res: ServerResponse, a: DeliveryAnswer, close = false): void {
    const headers: Record<string, string> = {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    };
    if (a.retryAfterSeconds !== undefined) headers['retry-after'] = String(a.retryAfterSeconds);
    if (close) headers.connection = 'close';
    res.writeHead(a.status, headers);
    res.end(`${a.message}\n`);
  }
}
