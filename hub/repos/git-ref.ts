// Git refs and `git ls-remote` output (pure): which refs to ask for, and which commit answers.
import { formatGitRevision } from '../../proto/index.js';

export type GitRef = { kind: 'branch' | 'tag' | 'commit'; name: string };

/** The patterns to pass to `git ls-remote` for a ref (none for a pinned commit). */
export function lsRemotePatterns(ref: GitRef): string[] {
  switch (ref.kind) {
    case 'branch':
      return [`refs/heads/${ref.name}`];
    case 'tag':
      return [`refs/tags/${ref.name}`, `refs/tags/${ref.name}^{}`];
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
    case 'commit':
      return ref.name;
  }
}

/** "main@sha1:<sha>" for a branch, "v1@sha1:<sha>" for a tag, "sha1:<sha>" for a pinned commit. */
export function revisionFor(ref: GitRef, commit: string): string {
  return formatGitRevision(ref.kind === 'commit' ? '' : ref.name, commit);
}
