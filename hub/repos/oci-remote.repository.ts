// Talks to OCI registries for revision resolution (lib/oci's client): a tag's digest, a SemVer
// range's highest tag, or a pinned digest's existence. Credentials go only to the registry.
import { Injectable } from '@nestjs/common';
import type { GitCredentials } from '../../proto/index.js';
import { Semaphore } from '../../lib/limit.js';
import { parseOciUrl } from '../../lib/oci/oci-reference.js';
import { RegistryClient } from '../../lib/oci/registry-client.js';
import { scrubSecrets } from '../../lib/redact.js';
import { highestOciTag, ociRevisionFor, type OciRef } from './oci-ref.js';

export const OCI_REQUEST_TIMEOUT_MS = 20_000;

/** What the resolver needs from a registry; the integration tests use the real one. */
export interface OciRemote {
  /** The revision `ref` resolves to now ("<tag>@sha256:<hex>" or "sha256:<hex>"). */
  resolve(url: string, ref: OciRef, credentials?: GitCredentials): Promise<string>;
}

@Injectable()
export class OciRemoteRepository implements OciRemote {
  /** At most this many registry conversations at once, whatever the number of repos. */
  private readonly limit = new Semaphore(4);

  resolve(url: string, ref: OciRef, credentials?: GitCredentials): Promise<string> {
    return this.limit.run(async () => {
      const client = new RegistryClient(parseOciUrl(url), {
        credentials: credentials?.username ? credentials : undefined,
        timeoutMs: OCI_REQUEST_TIMEOUT_MS,
      });
      try {
        let tag = ref.kind === 'tag' ? ref.name : '';
        if (ref.kind === 'semver') tag = highestOciTag(await client.tags(), ref.name, url);
        const { digest } = await client.resolve(ref.kind === 'digest' ? ref.name : tag);
        return ociRevisionFor(ref.kind === 'semver' ? { kind: 'tag', name: tag } : ref, digest);
      } catch (err) {
        throw new Error(scrubSecrets((err as Error).message, [credentials?.password ?? '']));
      }
    });
  }
}
