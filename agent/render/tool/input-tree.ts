// What a render tool may read, checked before it runs: kustomize and helm follow symbolic links
// and read dot-files (helm's .Files.Get), so every entry of the directories they read is checked
// here, dot-files included. A link that leaves the checkout (to the agent's ServiceAccount token,
// to another repository's checkout beside it in the cache) or leads nowhere is refused, naming it.
// Entries count against maxFiles; the files' bytes are the render budget's first weight.
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { Reason } from '../../../proto/index.js';
import { buildError } from '../../errors.js';
import { limitError } from '../../limits.js';

export function isInside(realRoot: string, target: string): boolean {
  return target === realRoot || target.startsWith(realRoot + sep);
}

export function toPosix(p: string): string {
  return p.split(sep).join(posix.sep);
}

/** Walks directories of one checkout, each entry once, across calls. */
export class InputTree {
  private entries = 0;
  private bytesSeen = 0;
  private readonly walked = new Set<string>();

  private constructor(
    private readonly root: string,
    private readonly realRoot: string,
    private readonly maxFiles: number,
  ) {}

  static async of(root: string, maxFiles: number): Promise<InputTree> {
    return new InputTree(root, await realpath(root), maxFiles);
  }

  /** Bytes of the files walked so far. */
  get bytes(): number {
    return this.bytesSeen;
  }

  /** The path relative to the checkout, for messages. */
  shown(abs: string): string {
    return toPosix(relative(this.root, abs)) || '.';
  }

  /** The real path of `abs`, refused unless inside the checkout. */
  async realInside(abs: string, what: string): Promise<string> {
    const real = await realpath(abs).catch(() => undefined);
    if (!real || !isInside(this.realRoot, real)) {
      throw buildError(
        `${what} points outside the repository (or nowhere); it must stay inside the checkout`,
      );
    }
    return real;
  }

  /** Checks every entry under `dir` (a directory inside the checkout), once. */
  async walk(dir: string): Promise<void> {
    const real = await this.realInside(dir, this.shown(dir));
    if (this.walked.has(real)) return;
    this.walked.add(real);
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const child = join(dir, e.name);
      if (++this.entries > this.maxFiles) {
        throw limitError(
          Reason.BuildFailed,
          this.shown(dir),
          'the render reads more files and directories',
          'maxFiles',
          this.maxFiles,
        );
      }
      let target = child;
      if (e.isSymbolicLink()) target = await this.realInside(child, `${this.shown(child)}: symbolic link`);
      const st = e.isSymbolicLink() ? await stat(target) : await lstat(child);
      if (st.isDirectory()) await this.walk(child);
      else if (st.isFile()) this.bytesSeen += st.size;
    }
  }
}
