// The on-disk cache every source kind shares the shape of: one directory per repository, one
// subdirectory per pinned revision, made complete in a temp dir and published by a rename.
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** File in a cached revision's directory that marks it complete (written last, before the rename). */
export const COMPLETE = '.gitfleet-complete';

export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Moves a finished revision from its temp dir into place. Another process (or an earlier run)
 * may have finished the same revision first: that one is kept.
 */
export async function publishRevision(tmp: string, dir: string): Promise<void> {
  try {
    await rename(tmp, dir);
  } catch (err) {
    if (!(await exists(join(dir, COMPLETE)))) throw err;
  }
}

/**
 * Keeps the newest `keep` revisions of a repository (subdirectories whose name matches `name`),
 * and any that `pinned` says are in use or being fetched.
 */
export async function keepNewestRevisions(
  repoDir: string,
  name: RegExp,
  keep: number,
  pinned: (path: string) => boolean,
): Promise<void> {
  const entries = await readdir(repoDir, { withFileTypes: true });
  const dirs = await Promise.all(
    entries
      .filter((e) => e.isDirectory() && name.test(e.name))
      .map(async (e) => ({
        path: join(repoDir, e.name),
        mtime: (await stat(join(repoDir, e.name))).mtimeMs,
      })),
  );
  dirs.sort((a, b) => b.mtime - a.mtime);
  for (const d of dirs.slice(keep)) {
    if (pinned(d.path)) continue;
    await rm(d.path, { recursive: true, force: true });
  }
}
