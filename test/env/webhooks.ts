// What a git host sends to a webhook receiver, signed as the host would sign it (HMAC-SHA256 over
// the raw body, computed here independently of the hub's code), and a plain HTTP POST to send
// it. For the hub's webhook suites and the e2e "push → applied" test.
import { createHmac, randomUUID } from 'node:crypto';
import { request } from 'node:http';

export interface WebhookDelivery {
  headers: Record<string, string>;
  body: Buffer;
}

function sha256Signature(secret: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** A GitHub push of `cloneUrl` (X-GitHub-Event push, X-Hub-Signature-256, a fresh X-GitHub-Delivery). */
export function githubPush(
  secret: string,
  cloneUrl: string,
  opts: { after?: string; ref?: string; deliveryId?: string; event?: string } = {},
): WebhookDelivery {
  const body = Buffer.from(
    JSON.stringify({
      ref: opts.ref ?? 'refs/heads/main',
      after: opts.after ?? '0'.repeat(40),
      repository: { clone_url: cloneUrl, html_url: cloneUrl.replace(/\.git$/, '') },
    }),
  );
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': opts.event ?? 'push',
      'x-github-delivery': opts.deliveryId ?? randomUUID(),
      'x-hub-signature-256': sha256Signature(secret, body),
    },
  };
}

/** A GitLab push of the project at `httpUrl` (X-Gitlab-Token carries the secret itself). */
export function gitlabPush(
  secret: string,
  httpUrl: string,
  opts: { deliveryId?: string; event?: string } = {},
): WebhookDelivery {
  const body = Buffer.from(
    JSON.stringify({ object_kind: 'push', ref: 'refs/heads/main', project: { git_http_url: httpUrl } }),
  );
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-gitlab-event': opts.event ?? 'Push Hook',
      'x-gitlab-event-uuid': opts.deliveryId ?? randomUUID(),
      'x-gitlab-token': secret,
    },
  };
}

/** A generic delivery: any body, signed in X-Signature. */
export function genericCall(secret: string, payload: unknown = {}): WebhookDelivery {
  const body = Buffer.from(JSON.stringify(payload));
  return {
    body,
    headers: { 'content-type': 'application/json', 'x-signature': sha256Signature(secret, body) },
  };
}

/** POSTs (or `method`s) a delivery to http://<address><path>; resolves with status, body and headers. */
export function postWebhook(
  address: string,
  path: string,
  delivery: WebhookDelivery,
  method = 'POST',
): Promise<{ status: number; text: string; headers: Record<string, string | string[] | undefined> }> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: host.replace(/^\[|\]$/g, ''),
        port,
        path,
        method,
        headers: { ...delivery.headers, 'content-length': String(delivery.body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // a hub that never answers fails the test instead of hanging it
    req.setTimeout(30_000, () =>
      req.destroy(new Error(`no answer from ${address}${path.slice(0, 80)} in 30 s`)),
    );
    req.end(delivery.body);
  });
}
