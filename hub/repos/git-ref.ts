// Git refs and `git ls-remote` output (pure): which refs to ask for, and which commit answers.
import semver from 'semver';
import { formatGitRevision } from '../../proto/index.js';
import { refNameProblem } from '../../proto/contract/validation.js';
import { highestSatisfying, noTagMatchesIn, sortVersionTags } from './semver-tags.js';

/** A ref to follow; for 'semver' the name is the range (">=1.0.0 <2.0.0") over the repo's tags. */
export type GitRef = { kind: 'branch' | 'tag' | 'commit' | 'semver'; name: string };

export { TAGS_SHOWN } from './semver-tags.js';

/** The patterns to pass to `git ls-remote` for a ref (none for a pinned commit). */
export function lsRemotePatterns(ref: GitRef): string[] {
  switch (ref.kind) {
    case 'branch':
      return [`refs/heads/${ref.name}`];
    case 'tag':
      return [`refs/tags/${ref.name}`, `refs/tags/${ref.name}^{}`];
    case 'semver':
      return ['refs/tags/*'];
    case 'commit':
      return [];
  }
}

/** Parses `git ls-remote` output ("<sha>\t<ref>" per line) into ref → sha. */
export function parseLsRemote(stdout: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^([0-9a-f]{40})\t(\S+)$/.exec(line.trim());
    if (m) refs.set(m[2], m[1]);
  }
  return refs;
}

/**
 * The commit a ref points to: a branch's head, or a tag's commit (the peeled "^{}" entry of an
 * annotated tag, which otherwise points at the tag object). Undefined when the ref is absent.
 */
export function commitForRef(refs: ReadonlyMap<string, string>, ref: GitRef): string | undefined {
  switch (ref.kind) {
    case 'branch':
      return refs.get(`refs/heads/${ref.name}`);
    case 'tag':
      return refs.get(`refs/tags/${ref.name}^{}`) ?? refs.get(`refs/tags/${ref.name}`);
    case 'semver':
      return highestTagIn(refs, ref.name)?.commit;
    case 'commit':
      return ref.name;
  }
}

/** A tag whose name parses as SemVer (with or without a leading "v"), and the commit it points to. */
export interface SemverTag {
  tag: string;
  version: semver.SemVer;
  commit: string;
}

/**
 * Every tag in `refs` that is a SemVer version, highest first, with its commit (an annotated
 * tag's peeled "^{}" entry). Names git would not accept as a ref (a hostile server may send
 * anything) are skipped, so the revision formed from a tag always passes the agent's checks.
 * Ties (v1.0.0 and 1.0.0) go to the name that sorts first, so the choice is stable.
 */
export function semverTags(refs: ReadonlyMap<string, string>): SemverTag[] {
  const tags: SemverTag[] = [];
  for (const [ref, sha] of refs) {
    if (!ref.startsWith('refs/tags/') || ref.endsWith('^{}')) continue;
    const tag = ref.slice('refs/tags/'.length);
    const version = semver.parse(tag);
    if (!version || refNameProblem(tag)) continue;
    tags.push({ tag, version, commit: refs.get(`${ref}^{}`) ?? sha });
  }
  return sortVersionTags(tags);
}

/**
 * The highest tag satisfying `range`; prereleases only when the range names one of the same
 * major.minor.patch (semver's rule, as in Flux). Undefined when no tag matches.
 */
export function highestTagIn(refs: ReadonlyMap<string, string>, range: string): SemverTag | undefined {
  return highestSatisfying(semverTags(refs), range);
}

/** Why no tag matched: names the range and the newest SemVer tags seen (at most TAGS_SHOWN). */
export function noTagMatches(refs: ReadonlyMap<string, string>, range: string, where: string): string {
  return noTagMatchesIn(semverTags(refs), range, where);
}

/**
 * The revision `ref` resolves to in `refs` (ls-remote output of lsRemotePatterns(ref)): a SemVer
 * range gives its highest matching tag's. Throws an Error saying what is missing at `where`.
 */
export function revisionIn(refs: ReadonlyMap<string, string>, ref: GitRef, where: string): string {
  if (ref.kind === 'semver') {
    const found = highestTagIn(refs, ref.name);
    if (!found) throw new Error(noTagMatches(refs, ref.name, where));
    return revisionFor({ kind: 'tag', name: found.tag }, found.commit);
  }
  const commit = commitForRef(refs, ref);
  if (!commit) throw new Error(`${ref.kind} ${JSON.stringify(ref.name)} not found at ${where}`);
  return revisionFor(ref, commit);
}

/**
 * "main@sha1:<sha>" for a branch, "v1@sha1:<sha>" for a tag, "sha1:<sha>" for a pinned commit.
 * A SemVer range resolves to a tag: give that tag (`ref` of kind 'tag') here, not the range.
 */
export function revisionFor(ref: GitRef, commit: string): string {
  if (ref.kind === 'semver')
    throw new Error('a SemVer range has no revision of its own: give the chosen tag');
  return formatGitRevision(ref.kind === 'commit' ? '' : ref.name, commit);
}
