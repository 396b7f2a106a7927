// Fetches an OCI artifact pinned to one manifest digest into a local cache keyed by repository
// and digest: a second reconcile of the same digest makes no network call. The manifest is pulled
// BY DIGEST and checked against it, its media types must be Flux's (or a generic OCI tar+gzip
// layer) or a Helm chart's as `helm push` stores it (then the chart's files are the checkout's
// root, so the auto renderer finds Chart.yaml there), the layer blob is checked against its digest while it streams to disk, and the tar is
// unpacked under the agent's limits: no absolute paths, no '..', no links leaving the directory
// (and no hard links), no device files or FIFOs, at most maxFiles entries and maxSourceBytes.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { Reason, type SourceRef } from '../../../proto/index.js';
import { checkDigest, checkOciUrl } from '../../../proto/contract/validation.js';
import type { Logger } from '../../../lib/log.js';
import { parseOciUrl } from '../../../lib/oci/oci-reference.js';
import {
  DOCKER_MANIFEST,
  FLUX_CONFIG,
  FLUX_CONTENT,
  HELM_CHART_CONTENT,
  HELM_CONFIG,
  OCI_LAYER_GZIP,
  OCI_MANIFEST,
  parseImageManifest,
  RegistryClient,
} from '../../../lib/oci/registry-client.js';
import { scrubSecrets } from '../../../lib/redact.js';
import { ReconcileError } from '../../errors.js';
import { DEFAULT_SOURCE_LIMITS, limitError } from '../../limits.js';
import { COMPLETE, exists, keepNewestRevisions, publishRevision } from '../cache-dir.js';
import type { Checkout, Source } from '../source.js';

/** Config media types of an artifact of manifests (Flux's, or a generic or empty OCI config). */
const CONFIG_TYPES = [
  FLUX_CONFIG,
  'application/vnd.oci.image.config.v1+json',
  'application/vnd.oci.empty.v1+json',
];
/** Layer media types unpacked as a tar+gzip of manifests. */
const LAYER_TYPES = [FLUX_CONTENT, OCI_LAYER_GZIP, 'application/vnd.docker.image.rootfs.diff.tar.gzip'];

export interface OciSourceOptions {
  cacheDir: string;
  log: Logger;
  /** Artifacts kept per repository besides those in use (default 3). */
  keepPerRepo?: number;
  /** Bytes of the layer, and of its unpacked files (default DEFAULT_SOURCE_LIMITS). */
  maxSourceBytes?: number;
  /** Entries in the layer (default DEFAULT_SOURCE_LIMITS). */
  maxFiles?: number;
}

const HEX = /^[0-9a-f]{64}$/;

export class OciSource implements Source {
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly inUse = new Map<string, number>();

  constructor(private readonly opts: OciSourceOptions) {}

  repoDir(url: string): string {
    return join(this.opts.cacheDir, 'oci', createHash('sha256').update(url).digest('hex').slice(0, 20));
  }

  /** Whether the artifact is unpacked in the cache already (an invalid digest: false; fetch says why). */
  async cached(source: Pick<SourceRef, 'url' | 'digest'>): Promise<boolean> {
    if (!/^sha256:[0-9a-f]{64}$/.test(source.digest)) return false;
    return exists(join(this.repoDir(source.url), source.digest.slice('sha256:'.length), COMPLETE));
  }

  async fetch(source: Pick<SourceRef, 'url' | 'digest' | 'credentials'>): Promise<Checkout> {
    try {
      // checked with the desired set already; again here, right before the registry sees them
      checkOciUrl('source.url', source.url);
      checkDigest('source.digest', source.digest);
    } catch (err) {
      throw new ReconcileError(Reason.ArtifactFailed, (err as Error).message, { stalled: true });
    }
    const digest = source.digest;
    const repoDir = this.repoDir(source.url);
    const dir = join(repoDir, digest.slice('sha256:'.length));
    this.inUse.set(dir, (this.inUse.get(dir) ?? 0) + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const n = (this.inUse.get(dir) ?? 1) - 1;
      if (n <= 0) this.inUse.delete(dir);
      else this.inUse.set(dir, n);
    };
    try {
      if (await exists(join(dir, COMPLETE))) {
        const now = new Date();
        await utimes(dir, now, now).catch(() => undefined);
        return { dir: join(dir, 'files'), commit: digest, fetched: false, release };
      }
      let p = this.inflight.get(dir);
      if (!p) {
        p = this.download(source, repoDir, dir).finally(() => this.inflight.delete(dir));
        this.inflight.set(dir, p);
      }
      await p;
      await this.evict(repoDir).catch((err) =>
        this.opts.log.warn({ err: String(err) }, 'oci cache eviction failed'),
      );
      return { dir: join(dir, 'files'), commit: digest, fetched: true, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  private async download(
    source: Pick<SourceRef, 'url' | 'digest' | 'credentials'>,
    repoDir: string,
    dir: string,
  ): Promise<void> {
    const { url, digest } = source;
    const where = `${url}@${digest}`;
    const maxBytes = this.opts.maxSourceBytes ?? DEFAULT_SOURCE_LIMITS.maxSourceBytes;
    const maxFiles = this.opts.maxFiles ?? DEFAULT_SOURCE_LIMITS.maxFiles;
    const creds = source.credentials?.username ? source.credentials : undefined;
    const client = new RegistryClient(parseOciUrl(url), { credentials: creds });
    await mkdir(repoDir, { recursive: true });
    const tmp = join(repoDir, `.tmp-${digest.slice(7, 19)}-${randomBytes(4).toString('hex')}`);
    const started = Date.now();
    try {
      await mkdir(join(tmp, 'files'), { recursive: true });
      const fetched = await client.manifest(digest); // verified against the digest
      if (fetched.mediaType && ![OCI_MANIFEST, DOCKER_MANIFEST].includes(fetched.mediaType)) {
        throw new Error(
          `manifest ${digest} has media type ${JSON.stringify(fetched.mediaType)}, not an OCI image manifest`,
        );
      }
      const manifest = parseImageManifest(fetched.bytes, where);
      const chart = manifest.config.mediaType === HELM_CONFIG;
      if (!chart && !CONFIG_TYPES.includes(manifest.config.mediaType)) {
        throw new Error(
          `${where}: config media type ${JSON.stringify(manifest.config.mediaType)} is neither an artifact of manifests (${FLUX_CONFIG}) nor a Helm chart (${HELM_CONFIG})`,
        );
      }
      const wanted = chart ? [HELM_CHART_CONTENT] : LAYER_TYPES;
      const layer = manifest.layers.find((l) => wanted.includes(l.mediaType));
      if (!layer) {
        const seen = manifest.layers.map((l) => JSON.stringify(l.mediaType)).join(', ') || 'none';
        throw new Error(`${where} has no ${wanted[0]} layer (layers: ${seen})`);
      }
      if (layer.size > maxBytes)
        throw limitError(
          Reason.ArtifactFailed,
          where,
          `the layer has ${layer.size} bytes`,
          'maxSourceBytes',
          maxBytes,
        );
      const file = join(tmp, 'layer.tar.gz');
      try {
        await client.blobToFile(layer.digest, file, Math.min(layer.size, maxBytes));
      } catch (err) {
        if (/more than the limit/.test((err as Error).message) && layer.size <= maxBytes)
          throw new Error(
            `layer ${layer.digest} of ${where} is larger than its manifest says (${layer.size} bytes)`,
          );
        throw err;
      }
      await unpackLayer(file, join(tmp, 'files'), { where, maxBytes, maxFiles, chart });
      await rm(file, { force: true });
      if (chart && !(await exists(join(tmp, 'files', 'Chart.yaml'))))
        throw new ReconcileError(Reason.ArtifactFailed, `${where}: the Helm chart has no Chart.yaml`, {
          stalled: true,
        });
      await writeFile(join(tmp, COMPLETE), `${digest}\n`);
      await publishRevision(tmp, dir);
      this.opts.log.info({ url, digest, ms: Date.now() - started }, 'fetched oci artifact');
    } catch (err) {
      if (err instanceof ReconcileError) throw err;
      const message = scrubSecrets((err as Error).message, [creds?.password]);
      throw new ReconcileError(
        Reason.ArtifactFailed,
        message.includes(url) ? message : `${where}: ${message}`,
      );
    } finally {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Keeps the newest `keepPerRepo` artifacts of a repository, and any in use. */
  private evict(repoDir: string): Promise<void> {
    return keepNewestRevisions(
      repoDir,
      HEX,
      this.opts.keepPerRepo ?? 3,
      (path) => this.inUse.has(path) || this.inflight.has(path),
    );
  }
}

/** Why a tar entry may not be unpacked, or undefined when it may. */
export function entryProblem(path: string, type: string, linkpath: string | undefined): string | undefined {
  const shown = JSON.stringify(path.slice(0, 200));
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.includes('\\'))
    return `${shown} is an absolute path`;
  if (path.split('/').includes('..')) return `${shown} climbs out with '..'`;
  if (type === 'Directory' || type === 'File' || type === 'OldFile' || type === 'ContiguousFile')
    return undefined;
  if (type === 'SymbolicLink') {
    const target = linkpath ?? '';
    const resolved = posix.normalize(posix.join(posix.dirname(path), target));
    if (target.startsWith('/') || resolved === '..' || resolved.startsWith('../'))
      return `${shown} is a symbolic link to ${JSON.stringify(target.slice(0, 200))}, outside the artifact`;
    return undefined;
  }
  if (type === 'Link') return `${shown} is a hard link (not allowed in an artifact)`;
  return `${shown} is a ${type} entry (only files, directories and links inside the artifact are allowed)`;
}

/** Why an entry of a packaged Helm chart is not inside its one top directory `top`. */
function chartEntryProblem(path: string, top: string): string | undefined {
  if (path.split('/')[0] === top && path.includes('/')) return undefined;
  return `${JSON.stringify(path.slice(0, 200))} is outside the chart's directory ${JSON.stringify(top.slice(0, 100))} (a packaged chart has one top directory)`;
}

/**
 * Unpacks a tar(+gzip) into `dest`, refusing the whole layer at its first bad entry. A packaged
 * Helm chart (`chart`) has every entry under one top directory, the chart's name: its contents
 * land in `dest` itself.
 */
export async function unpackLayer(
  file: string,
  dest: string,
  o: { where: string; maxBytes: number; maxFiles: number; chart?: boolean },
): Promise<void> {
  let files = 0;
  let bytes = 0;
  let top: string | undefined;
  let problem: ReconcileError | undefined;
  const unpack = new tar.Unpack({
    cwd: dest,
    strict: true,
    preserveOwner: false,
    noMtime: true,
    strip: o.chart ? 1 : 0,
    filter: (_path, entry) => {
      if (problem) return false;
      const e = entry as tar.ReadEntry;
      top ??= e.path.split('/')[0];
      const why =
        entryProblem(e.path, e.type, e.linkpath) ?? (o.chart ? chartEntryProblem(e.path, top) : undefined);
      if (why) problem = new ReconcileError(Reason.ArtifactFailed, `${o.where}: ${why}`, { stalled: true });
      else if (++files > o.maxFiles)
        problem = limitError(
          Reason.ArtifactFailed,
          o.where,
          `the layer has more than ${o.maxFiles} entries`,
          'maxFiles',
          o.maxFiles,
        );
      else if ((bytes += e.size ?? 0) > o.maxBytes)
        problem = limitError(
          Reason.ArtifactFailed,
          o.where,
          'the unpacked layer has more bytes',
          'maxSourceBytes',
          o.maxBytes,
        );
      if (problem) {
        // stop reading now: a gzip bomb is never inflated further
        unpack.abort(problem);
        return false;
      }
      return true;
    },
  });
  try {
    await pipeline(createReadStream(file), unpack);
  } catch (err) {
    if (problem) throw problem;
    throw new ReconcileError(
      Reason.ArtifactFailed,
      `${o.where}: the layer is not a readable tar+gzip: ${(err as Error).message}`,
      {
        stalled: true,
      },
    );
  }
  if (problem) throw problem;
}
