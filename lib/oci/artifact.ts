// Packing and pushing a directory of manifests as an OCI artifact in Flux's format: one
// tar+gzip layer (application/vnd.cncf.flux.content.v1.tar+gzip), a config blob of Flux's config
// type, and an OCI image manifest annotated with when, from where and from which revision.
import { stat } from 'node:fs/promises';
import * as tar from 'tar';
import { parseOciUrl, TAG } from './oci-reference.js';
import {
  FLUX_CONFIG,
  FLUX_CONTENT,
  OCI_MANIFEST,
  RegistryClient,
  type ImageManifest,
  type OciCredentials,
} from './registry-client.js';

export interface PushArtifactOptions {
  dir: string;
  /** oci://host[:port]/repository */
  url: string;
  tag: string;
  credentials?: OciCredentials;
  /** org.opencontainers.image.source (default: the directory) */
  source?: string;
  /** org.opencontainers.image.revision (default: "") */
  revision?: string;
  /** org.opencontainers.image.created (default: now) */
  created?: Date;
}

/** The directory as a gzipped tar of its contents (relative paths, no owners, fixed times). */
export async function packDirectory(dir: string): Promise<Buffer> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new Error(`${dir} is not a directory`);
  const chunks: Buffer[] = [];
  const stream = tar.c({ gzip: true, cwd: dir, portable: true, mtime: new Date(0), follow: false }, ['.']);
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Packs `dir`, pushes its blobs and manifest under `tag`; returns the manifest's digest. */
export async function pushArtifact(o: PushArtifactOptions): Promise<string> {
  if (!TAG.test(o.tag)) throw new Error(`tag ${JSON.stringify(o.tag.slice(0, 80))} is not a valid OCI tag`);
  return pushLayer(o, await packDirectory(o.dir));
}

/** Pushes `layerBytes` (a tar+gzip) as an artifact in Flux's format under `o.tag`; returns its digest. */
export async function pushLayer(
  o: Omit<PushArtifactOptions, 'dir'> & { dir?: string },
  layerBytes: Buffer,
): Promise<string> {
  if (!TAG.test(o.tag)) throw new Error(`tag ${JSON.stringify(o.tag.slice(0, 80))} is not a valid OCI tag`);
  const client = new RegistryClient(parseOciUrl(o.url), { credentials: o.credentials });
  const configBytes = Buffer.from('{}');
  const layer = await client.pushBlob(layerBytes);
  const config = await client.pushBlob(configBytes);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: FLUX_CONFIG, digest: config.digest, size: config.size },
    layers: [{ mediaType: FLUX_CONTENT, digest: layer.digest, size: layer.size }],
    annotations: {
      'org.opencontainers.image.created': (o.created ?? new Date()).toISOString(),
      'org.opencontainers.image.source': o.source ?? o.dir ?? '',
      'org.opencontainers.image.revision': o.revision ?? '',
    },
  };
  return client.pushManifest(o.tag, Buffer.from(JSON.stringify(manifest)), OCI_MANIFEST);
}

/** Puts the manifest tagged `from` under `to` as well (same digest); returns the digest. */
export async function tagArtifact(
  url: string,
  from: string,
  to: string,
  credentials?: OciCredentials,
): Promise<string> {
  for (const t of [from, to])
    if (!TAG.test(t)) throw new Error(`tag ${JSON.stringify(t.slice(0, 80))} is not a valid OCI tag`);
  const client = new RegistryClient(parseOciUrl(url), { credentials });
  const m = await client.manifest(from);
  return client.pushManifest(to, m.bytes, m.mediaType || OCI_MANIFEST);
}

/** The repository's tags with their digests, sorted by tag. */
export async function listArtifacts(
  url: string,
  credentials?: OciCredentials,
): Promise<{ tag: string; digest: string }[]> {
  const client = new RegistryClient(parseOciUrl(url), { credentials });
  const tags = (await client.tags()).sort();
  const out: { tag: string; digest: string }[] = [];
  for (const tag of tags) out.push({ tag, digest: (await client.resolve(tag)).digest });
  return out;
}
