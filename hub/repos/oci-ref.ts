// OCI refs (pure): a tag, a SemVer range over the repository's tags, or a pinned digest, and the
// revision each resolves to ("<tag>@sha256:<hex>", or "sha256:<hex>" when pinned).
import type { Repo } from '../../proto/index.js';
import { formatOciRevision } from '../../proto/index.js';
import { TAG } from '../../lib/oci/oci-reference.js';
import { highestSatisfying, noTagMatchesIn, versionTags } from './semver-tags.js';

export type OciRef = { kind: 'tag' | 'semver' | 'digest'; name: string };

/** The ref an OCI repo follows ("latest" when none is set, as in Flux). */
export function ociRefOf(repo: Pick<Repo, 'tag' | 'semver' | 'digest'>): OciRef {
  if (repo.digest) return { kind: 'digest', name: repo.digest };
  if (repo.semver) return { kind: 'semver', name: repo.semver };
  return { kind: 'tag', name: repo.tag || 'latest' };
}

/**
 * The highest tag satisfying `range` among `tags` (a registry's tag list). Names that are not
 * valid OCI tags are skipped (a hostile registry may send anything); "_" reads as "+" (Helm's
 * chart version tags). Throws naming the range and
 * the newest tags seen when none matches.
 */
export function highestOciTag(tags: readonly string[], range: string, where: string): string {
  const sorted = versionTags(
    tags.filter((t) => TAG.test(t)),
    { underscoreIsPlus: true },
  );
  const found = highestSatisfying(sorted, range);
  if (!found) throw new Error(noTagMatchesIn(sorted, range, where));
  return found.tag;
}

export function ociRevisionFor(ref: OciRef, digest: string): string {
  if (ref.kind === 'semver')
    throw new Error('a SemVer range has no revision of its own: give the chosen tag');
  return formatOciRevision(ref.kind === 'tag' ? ref.name : '', digest);
}
