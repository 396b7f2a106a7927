// Revision strings as Flux writes them: "<ref>@sha1:<commit>" for git, "<tag>@sha256:<digest>"
// for OCI. The ref part is informative; the digest part is what is fetched and compared.

const GIT_REVISION = /^(?:(.+)@)?sha1:([0-9a-f]{40})$/;
const OCI_REVISION = /^(?:([A-Za-z0-9_][A-Za-z0-9._-]{0,127})@)?(sha256:[0-9a-f]{64})$/;

export interface GitRevision {
  /** Branch, tag or "" when pinned to a commit. */
  ref: string;
  commit: string;
}

export function formatGitRevision(ref: string, commit: string): string {
  if (!/^[0-9a-f]{40}$/.test(commit)) throw new Error(`not a full commit SHA: ${JSON.stringify(commit)}`);
  return ref ? `${ref}@sha1:${commit}` : `sha1:${commit}`;
}

export function parseGitRevision(revision: string): GitRevision {
  const m = GIT_REVISION.exec(revision);
  if (!m) throw new Error(`not a git revision: ${JSON.stringify(revision)} (want "<ref>@sha1:<40 hex>")`);
  return { ref: m[1] ?? '', commit: m[2] };
}

/** A short form for tables and logs: "main@sha1:1a2b3c4d". */
export function shortRevision(revision: string): string {
  const oci = OCI_REVISION.exec(revision);
  if (oci) return `${oci[1] ? `${oci[1]}@` : ''}${oci[2].slice(0, 15)}`;
  const m = GIT_REVISION.exec(revision);
  if (!m) return revision;
  return `${m[1] ? `${m[1]}@` : ''}sha1:${m[2].slice(0, 8)}`;
}

export interface OciRevision {
  /** The tag, or "" when pinned to a digest. */
  tag: string;
  /** "sha256:<64 hex>" */
  digest: string;
}

/** "v1.2.0@sha256:<hex>" for a tag, "sha256:<hex>" for a pinned digest (Flux's form). */
export function formatOciRevision(tag: string, digest: string): string {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest))
    throw new Error(`not a sha256 digest: ${JSON.stringify(digest)}`);
  return tag ? `${tag}@${digest}` : digest;
}

export function parseOciRevision(revision: string): OciRevision {
  const m = OCI_REVISION.exec(revision);
  if (!m) throw new Error(`not an OCI revision: ${JSON.stringify(revision)} (want "<tag>@sha256:<64 hex>")`);
  return { tag: m[1] ?? '', digest: m[2] };
}
