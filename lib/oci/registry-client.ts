// A small client of the OCI distribution API (v2): manifests by tag or digest, blobs, the tag
// list, and pushes. It speaks Node's fetch; every response body is read with a byte bound, every
// manifest or blob fetched by digest is checked against its sha256 before it is returned, and
// credentials go only to the registry (basic auth, or the bearer-token handshake the registry
// asks for with WWW-Authenticate) and never into an error message.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { isDigest, type OciRepository } from './oci-reference.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const FLUX_CONFIG = 'application/vnd.cncf.flux.config.v1+json';
export const FLUX_CONTENT = 'application/vnd.cncf.flux.content.v1.tar+gzip';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
/** What `helm push` stores: a chart's config, and its packaged chart (a tgz with one top directory). */
export const HELM_CONFIG = 'application/vnd.cncf.helm.config.v1+json';
export const HELM_CHART_CONTENT = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

/** Manifests are small (Flux's are under 1 KiB); anything past this is refused. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Tags read from a repository (over all pages). */
export const MAX_TAGS = 10_000;
const MAX_SMALL_BYTES = 1024 * 1024;

export interface OciCredentials {
  username: string;
  password: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

export class OciError extends Error {
  override readonly name = 'OciError';
  constructor(
    message: string,
    /** HTTP status, 0 for a network error. */
    readonly status = 0,
  ) {
    super(message);
  }
}

export interface RegistryClientOptions {
  credentials?: OciCredentials;
  /** Time limit of one request (default 30 s; blobs: the whole download). */
  timeoutMs?: number;
  /** Time limit of one blob download (default 300 s). */
  blobTimeoutMs?: number;
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** One client per repository: it keeps the authorization the registry handed out. */
export class RegistryClient {
  private authorization: string | undefined;
  private readonly where: string;

  constructor(
    readonly repo: OciRepository,
    private readonly opts: RegistryClientOptions = {},
  ) {
    this.where = `oci://${repo.host}/${repo.repository}`;
  }

  /** The digest a tag (or digest) points to now: HEAD first, GET (and hash) when HEAD says nothing. */
  async resolve(reference: string): Promise<{ digest: string; mediaType: string }> {
    const res = await this.request('HEAD', `manifests/${reference}`, { accept: MANIFEST_ACCEPT });
    await res.body?.cancel();
    const digest = res.headers.get('docker-content-digest') ?? '';
    if (res.ok && isDigest(digest)) return { digest, mediaType: baseType(res.headers.get('content-type')) };
    if (res.ok || res.status === 405) {
      const m = await this.manifest(reference);
      return { digest: m.digest, mediaType: m.mediaType };
    }
    throw this.statusError(
      res,
      isDigest(reference) ? `manifest ${reference}` : `tag ${JSON.stringify(reference)}`,
    );
  }

  /** A manifest's bytes; when `reference` is a digest, verified against it. */
  async manifest(reference: string): Promise<FetchedManifest> {
    const res = await this.request('GET', `manifests/${reference}`, { accept: MANIFEST_ACCEPT });
    if (!res.ok) {
      await res.body?.cancel();
      throw this.statusError(
        res,
        isDigest(reference) ? `manifest ${reference}` : `tag ${JSON.stringify(reference)}`,
      );
    }
    const bytes = await readBounded(res, MAX_MANIFEST_BYTES, `manifest ${reference} of ${this.where}`);
    const digest = sha256Digest(bytes);
    if (isDigest(reference) && digest !== reference) {
      throw new OciError(
        `manifest ${reference} of ${this.where} does not match its digest (the registry sent content with ${digest})`,
      );
    }
    const mediaType = baseType(res.headers.get('content-type')) || mediaTypeIn(bytes);
    return { digest, mediaType, bytes };
  }

  /** Every tag of the repository (following the Link header's pages), at most MAX_TAGS. */
  async tags(): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = 'tags/list?n=1000';
    while (path) {
      const res = await this.request('GET', path, { accept: 'application/json' });
      if (res.status === 404) {
        await res.body?.cancel();
        throw new OciError(`repository ${this.where} not found (no tags)`, 404);
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw this.statusError(res, 'tag list');
      }
      const body = parseJson(await readBounded(res, MAX_SMALL_BYTES * 4, `tag list of ${this.where}`));
      const page = (body as { tags?: unknown }).tags;
      if (page !== null && page !== undefined && !Array.isArray(page))
        throw new OciError(`tag list of ${this.where} is not a list`);
      for (const t of page ?? []) if (typeof t === 'string') tags.push(t);
      if (tags.length > MAX_TAGS) throw new OciError(`${this.where} has more than ${MAX_TAGS} tags`);
      path = nextPage(res.headers.get('link'), this.repo.repository);
    }
    return tags;
  }

  /** A small blob (a config) in memory, verified. */
  async blob(digest: string, maxBytes = MAX_SMALL_BYTES): Promise<Buffer> {
    const res = await this.blobResponse(digest);
    const bytes = await readBounded(res, maxBytes, `blob ${digest} of ${this.where}`);
    const got = sha256Digest(bytes);
    if (got !== digest) throw this.mismatch(digest, got);
    return bytes;
  }

  /** Streams a blob into `file`, at most `maxBytes`, verifying its digest; returns its size. */
  async blobToFile(digest: string, file: string, maxBytes: number): Promise<number> {
    const res = await this.blobResponse(digest);
    const hash = createHash('sha256');
    const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
    let size = 0;
    try {
      await readChunks(res, maxBytes, `blob ${digest} of ${this.where}`, async (chunk) => {
        size += chunk.length;
        hash.update(chunk);
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      });
    } finally {
      await new Promise<void>((resolve, reject) =>
        out.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
    }
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== digest) throw this.mismatch(digest, got);
    return size;
  }

  /** Uploads a blob unless the registry has it (monolithic POST then PUT). */
  async pushBlob(bytes: Buffer): Promise<Descriptor & { mediaType: '' }> {
    const digest = sha256Digest(bytes);
    const head = await this.request('HEAD', `blobs/${digest}`, {});
    await head.body?.cancel();
    if (head.ok) return { mediaType: '', digest, size: bytes.length };
    const start = await this.request('POST', 'blobs/uploads/', { body: Buffer.alloc(0) });
    await start.body?.cancel();
    if (start.status !== 202) throw this.statusError(start, 'blob upload');
    const location = start.headers.get('location');
    if (!location) throw new OciError(`${this.where}: the registry gave no upload location`);
    const url = new URL(location, this.repo.baseUrl);
    if (url.origin !== new URL(this.repo.baseUrl).origin)
      throw new OciError(`${this.where}: the upload location leaves the registry (${url.origin})`);
    url.searchParams.set('digest', digest);
    const put = await this.request('PUT', url.toString(), {
      body: bytes,
      contentType: 'application/octet-stream',
      absolute: true,
    });
    await put.body?.cancel();
    if (put.status !== 201) throw this.statusError(put, `blob ${digest} upload`);
    return { mediaType: '', digest, size: bytes.length };
  }

  /** Puts a manifest under `reference` (a tag or its digest); returns its digest. */
  async pushManifest(reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.request('PUT', `manifests/${reference}`, { body: bytes, contentType: mediaType });
    await res.body?.cancel();
    if (res.status !== 201) throw this.statusError(res, `manifest ${reference} upload`);
    return sha256Digest(bytes);
  }

  // ---- transport -----------------------------------------------------------------------------

  private async blobResponse(digest: string): Promise<Response> {
    if (!isDigest(digest)) throw new OciError(`not a sha256 digest: ${JSON.stringify(digest.slice(0, 80))}`);
    const res = await this.request('GET', `blobs/${digest}`, { blob: true });
    if (!res.ok) {
      await res.body?.cancel();
      throw this.statusError(res, `blob ${digest}`);
    }
    return res;
  }

  private mismatch(want: string, got: string): OciError {
    return new OciError(
      `blob ${want} of ${this.where} does not match its digest (the registry sent content with ${got})`,
    );
  }

  private async request(
    method: string,
    path: string,
    o: { accept?: string; body?: Buffer; contentType?: string; absolute?: boolean; blob?: boolean },
  ): Promise<Response> {
    const url = o.absolute ? path : `${this.repo.baseUrl}/v2/${this.repo.repository}/${path}`;
    const send = async (): Promise<Response> => {
      const headers: Record<string, string> = {};
      if (o.accept) headers.accept = o.accept;
      if (o.contentType) headers['content-type'] = o.contentType;
      if (this.authorization) headers.authorization = this.authorization;
      const timeout = o.blob ? (this.opts.blobTimeoutMs ?? 300_000) : (this.opts.timeoutMs ?? 30_000);
      try {
        return await fetch(url, {
          method,
          headers,
          body: o.body,
          redirect: 'follow',
          signal: AbortSignal.timeout(timeout),
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        const why =
          (err as Error).name === 'TimeoutError'
            ? `timed out after ${timeout / 1000}s`
            : (cause?.code ?? cause?.message ?? (err as Error).message);
        throw new OciError(`cannot reach ${this.repo.baseUrl} for ${this.where}: ${why}`);
      }
    };
    let res = await send();
    if (res.status === 401 && !o.absolute) {
      const challenge = res.headers.get('www-authenticate') ?? '';
      await res.body?.cancel();
      const before = this.authorization;
      await this.authorize(challenge, method === 'GET' || method === 'HEAD' ? 'pull' : 'pull,push');
      if (this.authorization !== before) res = await send();
      else res = new Response(null, { status: 401 });
      if (res.status === 401) {
        await res.body?.cancel();
        throw new OciError(
          this.opts.credentials
            ? `authentication failed at ${this.where}: the registry rejected the credentials`
            : `authentication required at ${this.where}: the registry asks for credentials (give a username and password)`,
          401,
        );
      }
    }
    return res;
  }

  /** Answers a WWW-Authenticate challenge: Basic with the credentials, or Bearer with a token. */
  private async authorize(challenge: string, actions: string): Promise<void> {
    const c = this.opts.credentials;
    const scheme = challenge.split(' ')[0]?.toLowerCase();
    const basic = c ? `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` : undefined;
    if (scheme === 'basic') {
      this.authorization = basic;
      return;
    }
    if (scheme !== 'bearer') return;
    const params = parseChallenge(challenge.slice(challenge.indexOf(' ') + 1));
    if (!params.realm || !/^https?:\/\//i.test(params.realm)) return;
    const tokenUrl = new URL(params.realm);
    if (params.service) tokenUrl.searchParams.set('service', params.service);
    tokenUrl.searchParams.set('scope', params.scope ?? `repository:${this.repo.repository}:${actions}`);
    let res: Response;
    try {
      res = await fetch(tokenUrl, {
        headers: basic ? { authorization: basic } : {},
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
      });
    } catch (err) {
      throw new OciError(
        `cannot get a token from ${tokenUrl.origin} for ${this.where}: ${(err as Error).message}`,
      );
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new OciError(
        `the token service ${tokenUrl.origin} refused ${this.where} (HTTP ${res.status})${c ? ': check the credentials' : ''}`,
        res.status,
      );
    }
    const body = parseJson(await readBounded(res, MAX_SMALL_BYTES, 'token')) as {
      token?: unknown;
      access_token?: unknown;
    };
    const token = typeof body.token === 'string' ? body.token : body.access_token;
    if (typeof token !== 'string' || !token)
      throw new OciError(`the token service for ${this.where} sent no token`);
    this.authorization = `Bearer ${token}`;
  }

  private statusError(res: Response, what: string): OciError {
    if (res.status === 404) return new OciError(`${what} not found at ${this.where}`, 404);
    if (res.status === 403) return new OciError(`access to ${what} at ${this.where} denied (HTTP 403)`, 403);
    return new OciError(`${what} at ${this.where}: HTTP ${res.status} ${res.statusText}`.trim(), res.status);
  }
}

const MANIFEST_ACCEPT = [OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX].join(', ');

function baseType(contentType: string | null): string {
  return (contentType ?? '').split(';')[0].trim();
}

function mediaTypeIn(bytes: Buffer): string {
  try {
    const m = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType;
    return typeof m === 'string' ? m : '';
  } catch {
    return '';
  }
}

function parseJson(bytes: Buffer): unknown {
  try {
    const v: unknown = JSON.parse(bytes.toString('utf8'));
    if (v === null || typeof v !== 'object') throw new Error('not an object');
    return v;
  } catch (err) {
    throw new OciError(`the registry sent invalid JSON: ${(err as Error).message}`);
  }
}

/** key="value" pairs of a WWW-Authenticate challenge. */
function parseChallenge(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([A-Za-z]+)="([^"]*)"/g)) out[m[1].toLowerCase()] = m[2];
  return out;
}

/** The next page of a tag list from `Link: </v2/<name>/tags/list?last=x&n=y>; rel="next"`. */
function nextPage(link: string | null, repository: string): string | undefined {
  const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
  if (!m) return undefined;
  const url = new URL(m[1], 'http://x');
  const prefix = `/v2/${repository}/`;
  if (!url.pathname.startsWith(prefix)) return undefined;
  return url.pathname.slice(prefix.length) + url.search;
}

async function readChunks(
  res: Response,
  maxBytes: number,
  what: string,
  onChunk: (chunk: Uint8Array) => Promise<void> | void,
): Promise<void> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new OciError(`${what} has ${declared} bytes, more than the limit of ${maxBytes}`);
  }
  if (!res.body) return;
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      throw new OciError(`${what} has more than the limit of ${maxBytes} bytes`);
    }
    await onChunk(value);
  }
}

/** A response body in memory, refused past `maxBytes`. */
export async function readBounded(res: Response, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  await readChunks(res, maxBytes, what, (c) => void chunks.push(c));
  return Buffer.concat(chunks);
}

/** Parses and checks an image manifest's shape (schema 2, a config, layers with digests). */
export function parseImageManifest(bytes: Buffer, where: string): ImageManifest {
  const m = parseJson(bytes) as Partial<ImageManifest>;
  const bad = (why: string) => new OciError(`manifest of ${where}: ${why}`);
  if (m.schemaVersion !== 2) throw bad('schemaVersion must be 2');
  if (m.mediaType === OCI_INDEX || (m as { manifests?: unknown }).manifests)
    throw bad('is an image index, not an artifact manifest');
  const checkDescriptor = (d: unknown, field: string): Descriptor => {
    const x = d as Partial<Descriptor> | null;
    if (!x || typeof x !== 'object') throw bad(`${field} is missing`);
    if (typeof x.mediaType !== 'string') throw bad(`${field}.mediaType is missing`);
    if (typeof x.digest !== 'string' || !isDigest(x.digest))
      throw bad(`${field}.digest is not a sha256 digest`);
    if (typeof x.size !== 'number' || !Number.isSafeInteger(x.size) || x.size < 0)
      throw bad(`${field}.size is not a size`);
    return x as Descriptor;
  };
  const config = checkDescriptor(m.config, 'config');
  if (!Array.isArray(m.layers)) throw bad('layers is missing');
  const layers = m.layers.map((l, i) => checkDescriptor(l, `layers[${i}]`));
  return { ...m, schemaVersion: 2, config, layers } as ImageManifest;
}
