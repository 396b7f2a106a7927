// The outbox against a real HTTP server on loopback: retries, Retry-After, give-up, bounded queue.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../lib/log.js';
import { eventually } from '../../test/env/index.js';
import { AlertDispatcher, backoffDelayMs, parseRetryAfter, type DeliveryResult } from './alert-dispatcher.js';
import { signature } from './alert-payload.js';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('AlertDispatcher', () => {
  let server: Server;
  let base = '';
  const received: Received[] = [];
  /** Status codes to answer, in order, per path; 200 when none is left. */
  const script = new Map<string, Array<number | [number, Record<string, string>]>>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, body });
        if (req.url === '/hang') return; // never answers
        const next = script.get(req.url ?? '')?.shift() ?? 200;
        const [code, headers] = Array.isArray(next) ? next : [next, {}];
        res.writeHead(code, headers).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  function dispatcher(results: Array<[string, DeliveryResult]>, options = {}) {
    return new AlertDispatcher(createLogger('test', 'silent'), {
      userAgent: 'gitfleet/test',
      firstDelayMs: 10,
      maxDelayMs: 50,
      onResult: (key, r) => results.push([key, r]),
      ...options,
    });
  }
  const target = (path: string, secret = '') => ({ url: `${base}${path}`, origin: base, secret });

  it('retries 5xx with backoff until the receiver takes it, signed, with its user agent', async () => {
    const results: Array<[string, DeliveryResult]> = [];
    const d = dispatcher(results);
    script.set('/retry?token=SECRETPATH', [500, 502]);
    d.enqueue('a', target('/retry?token=SECRETPATH', 'k'), '{"kind":"x"}');
    await eventually(() => results.some(([, r]) => r.ok));
    expect(results.map(([k, r]) => [k, r.ok, r.error])).toEqual([
      ['a', false, `${base} answered 500 Internal Server Error; retrying (attempt 1 failed)`],
      ['a', false, `${base} answered 502 Bad Gateway; retrying (attempt 2 failed)`],
      ['a', true, ''],
    ]);
    const got = received.filter((r) => r.path.startsWith('/retry'));
    expect(got).toHaveLength(3);
    expect(got[2].headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'gitfleet/test',
      'x-gitfleet-signature': signature('k', '{"kind":"x"}'),
    });
    await d.close();
  });

  it("honours a 429's Retry-After", async () => {
    const results: Array<[string, DeliveryResult]> = [];
    const d = dispatcher(results);
    script.set('/busy', [[429, { 'Retry-After': '0' }]]);
    d.enqueue('a', target('/busy'), '{}');
    await eventually(() => results.some(([, r]) => r.ok));
    expect(received.filter((r) => r.path === '/busy')).toHaveLength(2);
    await d.close();
  });

  it('gives up at once on a 4xx, naming the receiver by its origin only', async () => {
    const results: Array<[string, DeliveryResult]> = [];
    const d = dispatcher(results);
    script.set('/gone/SECRETPATH', [404]);
    d.enqueue('a', target('/gone/SECRETPATH'), '{}');
    await eventually(() => results.length === 1);
    expect(results[0][1]).toMatchObject({
      ok: false,
      error: `${base} answered 404 Not Found: not retried (check the alert's URL)`,
    });
    expect(received.filter((r) => r.path.startsWith('/gone'))).toHaveLength(1);
    await d.close();
  });

  it('gives up on a receiver that is down after the attempts allowed, never echoing URL or secret', async () => {
    const down = createServer();
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    const port = (down.address() as AddressInfo).port;
    await new Promise((resolve) => down.close(resolve));
    const results: Array<[string, DeliveryResult]> = [];
    const d = dispatcher(results, { maxAttempts: 3 });
    const origin = `http://127.0.0.1:${port}`;
    d.enqueue('a', { url: `${origin}/x/SECRETPATH`, origin, secret: 'SECRETKEY' }, '{}');
    await eventually(() => results.length === 3);
    expect(results.map(([, r]) => r.error)).toEqual([
      `${origin}: ECONNREFUSED; retrying (attempt 1 failed)`,
      `${origin}: ECONNREFUSED; retrying (attempt 2 failed)`,
      `${origin}: ECONNREFUSED; gave up after 3 attempts`,
    ]);
    await d.close();
  });

  it('does not follow a redirect (the body and its signature would go elsewhere)', async () => {
    const results: Array<[string, DeliveryResult]> = [];
    const d = dispatcher(results);
    script.set('/moved', [[302, { Location: `/elsewhere` }]]);
    d.enqueue('a', target('/moved', 'k3y-s3cret'), '{}');
    await eventually(() => results.length === 1);
    expect(results[0][1]).toMatchObject({
      ok: false,
      error: `${base} answered 302 Found: not retried (check the alert's URL and secret)`,
    });
    expect(received.filter((r) => r.path === '/elsewhere')).toEqual([]);
    await d.close();
  });

  it('gives up when the receiver asks to wait longer than allowed, and times out one that never answers', async () => {
    const results: Array<[string, DeliveryResult]> = [];
    const d = dispatcher(results, { timeoutMs: 200, maxAttempts: 2 });
    script.set('/later', [[503, { 'Retry-After': '86400' }]]);
    d.enqueue('later', target('/later'), '{}');
    d.enqueue('hang', target('/hang'), '{}');
    await eventually(() => results.filter(([k]) => k === 'later').length === 1);
    expect(results.find(([k]) => k === 'later')![1].error).toBe(
      `${base} answered 503 Service Unavailable; gave up after 1 attempt`,
    );
    await eventually(() => results.some(([k, r]) => k === 'hang' && r.error.includes('gave up')));
    expect(results.filter(([k]) => k === 'hang').map(([, r]) => r.error)).toEqual([
      `${base}: no answer within 0.2s; retrying (attempt 1 failed)`,
      `${base}: no answer within 0.2s; gave up after 2 attempts`,
    ]);
    await d.close();
  });

  it('keeps one outbox per alert: a receiver that is down does not hold back another', async () => {
    const results: Array<[string, DeliveryResult]> = [];
    const d = dispatcher(results, { firstDelayMs: 60_000, maxDelayMs: 60_000 });
    script.set('/slow', [503]);
    d.enqueue('down', target('/slow'), '{}');
    d.enqueue('up', target('/fine'), '{}');
    await eventually(() => results.some(([k]) => k === 'up'));
    expect(d.pending('down')).toBe(1);
    await d.close(); // also stops the long wait of "down"
  });

  it('drops the oldest message when an outbox is full', async () => {
    const results: Array<[string, DeliveryResult]> = [];
    const d = dispatcher(results, { maxQueuePerAlert: 3, firstDelayMs: 60_000, maxDelayMs: 60_000 });
    script.set('/full', [503]);
    for (let i = 0; i < 6; i++) d.enqueue('a', target('/full'), `{"n":${i}}`);
    expect(d.pending('a')).toBe(3);
    await d.close();
  });
});

describe('backoff', () => {
  it('doubles from the first delay up to the cap, with jitter over the upper half', () => {
    for (let i = 0; i < 50; i++) {
      const first = backoffDelayMs(1, 1000, 60_000);
      expect(first).toBeGreaterThanOrEqual(500);
      expect(first).toBeLessThan(1000);
      const third = backoffDelayMs(3, 1000, 60_000);
      expect(third).toBeGreaterThanOrEqual(2000);
      expect(third).toBeLessThan(4000);
      expect(backoffDelayMs(30, 1000, 60_000)).toBeLessThan(60_000);
    }
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('7', 0)).toBe(7000);
    expect(parseRetryAfter(new Date(65_000).toUTCString(), 5000)).toBe(60_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
  });
});
