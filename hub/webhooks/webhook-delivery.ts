// What a webhook delivery says, checked (pure): is it signed with the receiver's secret, which
// event it is, whether it asks for a resolution, and which repository was pushed. Signatures are
// HMAC-SHA256 over the raw body bytes, compared in constant time; nothing here ever returns or
// echoes the secret or the signature header's value.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The receiver types: how a delivery is signed and which events trigger a resolution. */
export const RECEIVER_TYPES = ['github', 'gitlab', 'generic'] as const;
export type ReceiverType = (typeof RECEIVER_TYPES)[number];

export function isReceiverType(v: string): v is ReceiverType {
  return (RECEIVER_TYPES as readonly string[]).includes(v);
}

/** The header each type signs with (documented in the README and the CLI's help). */
export const SIGNATURE_HEADER: Record<ReceiverType, string> = {
  github: 'x-hub-signature-256',
  gitlab: 'x-gitlab-token',
  generic: 'x-signature',
};

/** Request headers as node:http gives them (lower-case names). */
export type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? undefined : v; // a repeated signature header is refused, not guessed
}

/** "sha256=<hex HMAC-SHA256(secret, body)>". */
export function hmacSignature(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Constant-time equality of two strings (lengths are not secret: both sides are fixed-size digests). */
function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) {
    timingSafeEqual(x, x); // spend the same work before saying no
    return false;
  }
  return timingSafeEqual(x, y);
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/**
 * Is the delivery signed with `secret`? The reason of a failure names the header, never its value.
 * GitLab sends the secret itself as its token; it is compared as an HMAC of both sides, so that
 * the comparison takes the same time whatever the lengths.
 */
export function verifySignature(type: ReceiverType, headers: Headers, body: Buffer, secret: string): Verdict {
  const name = SIGNATURE_HEADER[type];
  const given = header(headers, name);
  if (given === undefined || given === '') return { ok: false, reason: `missing ${name} header` };
  if (type === 'gitlab') {
    const key = 'gitfleet-gitlab-token';
    const ok = sameString(hmacSignature(key, given), hmacSignature(key, secret));
    return ok ? { ok: true } : { ok: false, reason: `bad ${name}` };
  }
  if (!/^sha256=[0-9a-fA-F]{64}$/.test(given))
    return { ok: false, reason: `malformed ${name} (want sha256=<64 hex>)` };
  return sameString(given.toLowerCase(), hmacSignature(secret, body))
    ? { ok: true }
    : { ok: false, reason: `bad signature in ${name}` };
}

/** What a verified delivery asks for. */
export interface DeliveryEvent {
  /** The event as the sender names it ("push", "Push Hook", "ping"; "" for generic). */
  event: string;
  /** A push (or a generic call): resolve. False: answered, nothing done. */
  trigger: boolean;
  /** GitHub's ping: answered 200 and nothing else. */
  ping: boolean;
  /** The sender's delivery id, for de-duplication; undefined when none (or not a sane one). */
  deliveryId: string | undefined;
}

const DELIVERY_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function deliveryEvent(type: ReceiverType, headers: Headers): DeliveryEvent {
  const id = (name: string) => {
    const v = header(headers, name);
    return v !== undefined && DELIVERY_ID.test(v) ? v : undefined;
  };
  switch (type) {
    case 'github': {
      const event = header(headers, 'x-github-event') ?? '';
      return {
        event,
        trigger: event === 'push',
        ping: event === 'ping',
        deliveryId: id('x-github-delivery'),
      };
    }
    case 'gitlab': {
      const event = header(headers, 'x-gitlab-event') ?? '';
      return {
        event,
        trigger: event === 'Push Hook' || event === 'Tag Push Hook',
        ping: false,
        deliveryId: id('x-gitlab-event-uuid'),
      };
    }
    case 'generic':
      return { event: '', trigger: true, ping: false, deliveryId: id('x-delivery-id') };
  }
}

/**
 * The URLs of the pushed repository in a push payload (GitHub: repository.clone_url, ssh_url,
 * html_url, git_url; GitLab: project.git_http_url, git_ssh_url, web_url, also repository.*).
 * GitHub may post the JSON as a form field `payload` (content type x-www-form-urlencoded).
 * Undefined: the body is not a payload of that kind.
 */
export function pushedRepoUrls(type: ReceiverType, body: Buffer, contentType = ''): string[] | undefined {
  let text = body.toString('utf8');
  if (/^application\/x-www-form-urlencoded\b/i.test(contentType)) {
    text = new URLSearchParams(text).get('payload') ?? '';
  }
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!payload || typeof payload !== 'object') return undefined;
  const pick = (obj: unknown, keys: string[]): string[] =>
    obj && typeof obj === 'object'
      ? keys
          .map((k) => (obj as Record<string, unknown>)[k])
          .filter((v): v is string => typeof v === 'string' && v !== '')
      : [];
  const p = payload as Record<string, unknown>;
  if (type === 'github') return pick(p.repository, ['clone_url', 'ssh_url', 'html_url', 'git_url']);
  if (type === 'gitlab')
    return [
      ...pick(p.project, ['git_http_url', 'git_ssh_url', 'web_url']),
      ...pick(p.repository, ['git_http_url', 'git_ssh_url', 'homepage']),
    ];
  return [];
}

/**
 * A repository URL in a form that compares equal across the ways of writing it: scheme and host
 * lower-case, no user info, no default port, no trailing "/" or ".git"; scp-like
 * "git@host:org/repo" as ssh://host/org/repo. The path keeps its case. Undefined: not a URL.
 */
export function normalizeRepoUrl(raw: string): string | undefined {
  let s = raw.trim();
  const scp = /^(?:[^@/\s]+@)?([^:/\s]+):(?!\/)(.+)$/.exec(s);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) s = `ssh://${scp[1]}/${scp[2]}`;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return undefined;
  }
  if (!url.hostname) return undefined;
  const scheme = url.protocol.toLowerCase();
  const defaults: Record<string, string> = { 'https:': '443', 'http:': '80', 'ssh:': '22', 'git:': '9418' };
  const port = url.port && url.port !== defaults[scheme] ? `:${url.port}` : '';
  let path = decodeURIComponent(url.pathname);
  for (;;) {
    const next = path.replace(/\/+$/, '').replace(/\.git$/, '');
    if (next === path) break;
    path = next;
  }
  return `${scheme}//${url.hostname.toLowerCase()}${port}${path}`;
}
