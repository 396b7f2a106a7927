// SemVer selection over tag names, shared by git tags (git-ref.ts) and OCI tags (oci-ref.ts).
import semver from 'semver';
import { quote } from '../../proto/contract/validation.js';

/** How many of the newest SemVer tags a "no tag matches" message names. */
export const TAGS_SHOWN = 5;

/** A tag whose name parses as SemVer (with or without a leading "v"). */
export interface VersionTag {
  tag: string;
  version: semver.SemVer;
}

/**
 * The tags that are SemVer versions, highest first. Ties (v1.0.0 and 1.0.0) go to the name that
 * sorts first, so the choice is stable.
 */
export function sortVersionTags<T extends VersionTag>(tags: T[]): T[] {
  return tags.sort((a, b) => semver.rcompare(a.version, b.version) || (a.tag < b.tag ? -1 : 1));
}

/**
 * Every name in `names` that parses as SemVer, highest first. `underscoreIsPlus`: read "_" as "+"
 * (OCI tags cannot hold "+", so `helm push` stores chart version 1.0.0+build.1 as tag
 * "1.0.0_build.1", and Flux and Helm read it back so).
 */
export function versionTags(names: Iterable<string>, o: { underscoreIsPlus?: boolean } = {}): VersionTag[] {
  const tags: VersionTag[] = [];
  for (const tag of names) {
    const version = semver.parse(o.underscoreIsPlus ? tag.replaceAll('_', '+') : tag);
    if (version) tags.push({ tag, version });
  }
  return sortVersionTags(tags);
}

/**
 * The highest of `sorted` (highest first) satisfying `range`; prereleases only when the range
 * names one of the same major.minor.patch (semver's rule, as in Flux).
 */
export function highestSatisfying<T extends VersionTag>(sorted: readonly T[], range: string): T | undefined {
  return sorted.find((t) => semver.satisfies(t.version, range));
}

/** Why no tag matched: names the range and the newest SemVer tags seen (at most TAGS_SHOWN). */
export function noTagMatchesIn(sorted: readonly VersionTag[], range: string, where: string): string {
  const seen = sorted.length
    ? `newest tags: ${sorted
        .slice(0, TAGS_SHOWN)
        .map((t) => quote(t.tag))
        .join(', ')}${sorted.length > TAGS_SHOWN ? `, … (${sorted.length} SemVer tags)` : ''}`
    : 'no tag there is a SemVer version';
  return `no tag matches semver ${quote(range)} at ${where} (${seen})`;
}
