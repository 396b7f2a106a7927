// The HTTP transport under @kubernetes/client-node: one keep-alive connection pool per API
// server for every identity the agent uses (impersonation is a header, not a connection), and a
// timeout on every request. client-node 1.4 otherwise opens a new TLS connection per request.
import http from 'node:http';
import https from 'node:https';
import { ResponseContext, type PromiseHttpLibrary, type RequestContext } from '@kubernetes/client-node';

export class KeepAliveHttpLibrary implements PromiseHttpLibrary {
  constructor(
    private readonly agent: http.Agent | undefined,
    private readonly timeoutMs: number,
  ) {}

  async send(req: RequestContext): Promise<ResponseContext> {
    // a kept-alive socket the server has just closed fails the request that reuses it; every
    // request the agent makes is idempotent (apply, get, list, delete), so send it once more
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(req);
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { reusedSocket?: boolean };
        if (attempt >= 3 || !e.reusedSocket || (e.code !== 'ECONNRESET' && e.code !== 'EPIPE')) throw err;
      }
    }
  }

  private once(req: RequestContext): Promise<ResponseContext> {
    const url = new URL(req.getUrl());
    const mod = url.protocol === 'https:' ? https : http;
    const body = req.getBody();
    if (body !== undefined && typeof body !== 'string') {
      return Promise.reject(new Error('KeepAliveHttpLibrary sends string bodies only'));
    }
    return new Promise<ResponseContext>((resolve, reject) => {
      const r = mod.request(
        url,
        {
          method: req.getHttpMethod(),
          headers: req.getHeaders(),
          agent: this.agent ?? req.getAgent(),
          signal: req.getSignal(),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const buf = Buffer.concat(chunks);
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) {
              if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
            }
            resolve(
              new ResponseContext(res.statusCode ?? 0, headers, {
                text: async () => buf.toString('utf8'),
                binary: async () => buf,
              }),
            );
          });
        },
      );
      r.setTimeout(this.timeoutMs, () => {
        r.destroy(new Error(`${req.getHttpMethod()} ${url.pathname} timed out after ${this.timeoutMs} ms`));
      });
      r.on('error', (err: NodeJS.ErrnoException & { reusedSocket?: boolean }) => {
        err.reusedSocket = r.reusedSocket;
        reject(err);
      });
      if (body !== undefined) r.write(body);
      r.end();
    });
  }
}
