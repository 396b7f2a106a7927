// What the reconciler asks of a source kind: the files of one pinned revision, as a directory.
import type { SourceRef } from '../../proto/index.js';

export interface Checkout {
  /** Directory holding the revision's files (no .git). */
  dir: string;
  /** The pinned revision's id: a commit SHA for git, a manifest digest for OCI. */
  commit: string;
  /** Whether this call fetched from the network (false: served from the cache). */
  fetched: boolean;
  /** Marks the checkout no longer in use, so eviction may remove it. */
  release(): void;
}

/** A source kind (git, oci): the reconciler picks one by SourceRef.type. */
export interface Source {
  fetch(source: SourceRef): Promise<Checkout>;
  /** Whether the revision is in the cache already (a fetch would not reach the network). */
  cached?(source: SourceRef): Promise<boolean>;
}
