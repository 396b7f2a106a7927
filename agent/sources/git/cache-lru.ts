// Which cached checkouts to remove so the git cache fits its byte budget: least recently used
// first, never one in use (a reconcile is reading it) or the newest per repository that the
// caller protects. Pure, so the policy is tested without a file system.

export interface CacheEntry {
  path: string;
  /** Bytes on disk (the checkout's files). */
  bytes: number;
  /** Last use, ms since the epoch (the checkout directory's mtime, touched on every use). */
  lastUsedMs: number;
  /** In use by a reconcile, or being written: never evicted. */
  pinned: boolean;
}

/**
 * The entries to evict, least recently used first, until the rest fit in `maxBytes` (pinned
 * entries count but stay: the cache may stay over budget while they are in use).
 */
export function lruEvictions(entries: readonly CacheEntry[], maxBytes: number): CacheEntry[] {
  let total = entries.reduce((n, e) => n + e.bytes, 0);
  if (total <= maxBytes) return [];
  const evict: CacheEntry[] = [];
  const oldestFirst = [...entries].sort(
    (a, b) => a.lastUsedMs - b.lastUsedMs || a.path.localeCompare(b.path),
  );
  for (const e of oldestFirst) {
    if (total <= maxBytes) break;
    if (e.pinned) continue;
    evict.push(e);
    total -= e.bytes;
  }
  return evict;
}
