// Fetches a git source pinned to one commit into a local cache keyed by repository URL and
// commit SHA: a second reconcile of the same commit makes no network call. Fetches by SHA with
// --depth 1 (protocol v2, or servers that allow reachable SHA-1s in want), falling back to a
// full fetch. Credentials (basic, bearer, SSH deploy key with known_hosts) reach git through
// lib/git-env's openGitSession, the same as on the hub: a header scoped to the remote's origin or
// a key file removed after the fetch, never in process arguments, logs or error messages. The
// whole cache is bounded in bytes (cacheMaxBytes): least recently used checkouts not in use are
// removed after each fetch (cache-lru.ts). The bytes a
// fetch may write (pack and checkout) are bounded by maxSourceBytes: git is stopped when the
// download grows past it, and the revision fails with ArtifactFailed naming the limit.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Reason, type SourceRef } from '../../../proto/index.js';
import {
  gitFailureReason,
  openGitSession,
  publicGitUrl,
  type GitCredentialFields,
  type GitSession,
} from '../../../lib/git-env.js';
import { lruEvictions, type CacheEntry } from './cache-lru.js';
import { checkGitUrl } from '../../../proto/contract/validation.js';
import type { Logger } from '../../../lib/log.js';
import { scrubSecrets } from '../../../lib/redact.js';
import { ReconcileError } from '../../errors.js';
import { DEFAULT_SOURCE_LIMITS, limitError } from '../../limits.js';
import { COMPLETE, exists, keepNewestRevisions, publishRevision } from '../cache-dir.js';
import type { Checkout, Source } from '../source.js';

export type { Checkout } from '../source.js';

export interface GitSourceOptions {
  cacheDir: string;
  log: Logger;
  /** Checkouts kept per repository besides those in use (default 3). */
  keepPerRepo?: number;
  /** Time limit of one git command (default 120 s). */
  timeoutMs?: number;
  /** git executable (default "git"). */
  git?: string;
  /** Wire protocol version (default 2; 0 for servers whose v2 is broken). */
  protocolVersion?: 0 | 1 | 2;
  /** Bytes one fetch may write, pack and checkout together (default DEFAULT_SOURCE_LIMITS). */
  maxSourceBytes?: number;
  /** How often the size of a download in progress is measured (default 250 ms). */
  sizeCheckMs?: number;
  /** Bytes the whole cache may hold; least recently used checkouts not in use go first (default 1 GiB). */
  cacheMaxBytes?: number;
}

/** 1 GiB, as agent/config.ts's default. */
const DEFAULT_CACHE_MAX_BYTES = 1024 * 1024 * 1024;

const SHA = /^[0-9a-f]{40}$/;

export class GitSource implements Source {
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly inUse = new Map<string, number>();

  constructor(private readonly opts: GitSourceOptions) {}

  repoDir(url: string): string {
    const clean = publicGitUrl(url);
    return join(this.opts.cacheDir, 'git', createHash('sha256').update(clean).digest('hex').slice(0, 20));
  }

  /** Whether the commit is checked out in the cache already (an invalid one: false; fetch says why). */
  async cached(source: Pick<SourceRef, 'url' | 'commit'>): Promise<boolean> {
    const commit = source.commit.toLowerCase();
    if (!SHA.test(commit)) return false;
    return exists(join(this.repoDir(source.url), commit, COMPLETE));
  }

  async fetch(
    source: Pick<SourceRef, 'url' | 'commit'> & { credentials?: GitCredentialFields },
  ): Promise<Checkout> {
    const commit = source.commit.toLowerCase();
    try {
      // checked with the desired set already; again here, right before git sees it
      checkGitUrl('source.url', source.url);
    } catch (err) {
      throw new ReconcileError(Reason.ArtifactFailed, (err as Error).message, { stalled: true });
    }
    const shownUrl = publicGitUrl(source.url);
    if (!SHA.test(commit)) {
      throw new ReconcileError(
        Reason.ArtifactFailed,
        `source ${shownUrl}: not a full commit SHA: ${JSON.stringify(source.commit)}`,
        {
          stalled: true,
        },
      );
    }
    const repoDir = this.repoDir(source.url);
    const dir = join(repoDir, commit);
    this.inUse.set(dir, (this.inUse.get(dir) ?? 0) + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const n = (this.inUse.get(dir) ?? 1) - 1;
      if (n <= 0) this.inUse.delete(dir);
      else this.inUse.set(dir, n);
    };
    try {
      if (await exists(join(dir, COMPLETE))) {
        const now = new Date();
        await utimes(dir, now, now).catch(() => undefined);
        return { dir, commit, fetched: false, release };
      }
      let p = this.inflight.get(dir);
      if (!p) {
        p = this.download(source.url, source.credentials, commit, repoDir, dir).finally(() =>
          this.inflight.delete(dir),
        );
        this.inflight.set(dir, p);
      }
      await p;
      await this.evict(repoDir)
        .then(() => this.evictToBudget())
        .catch((err) => this.opts.log.warn({ err: scrubSecrets(String(err)) }, 'git cache eviction failed'));
      return { dir, commit, fetched: true, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  private async download(
    url: string,
    credentials: GitCredentialFields | undefined,
    commit: string,
    repoDir: string,
    dir: string,
  ): Promise<void> {
    await mkdir(repoDir, { recursive: true });
    const tmp = join(repoDir, `.tmp-${commit.slice(0, 12)}-${randomBytes(4).toString('hex')}`);
    let auth: GitSession;
    try {
      auth = await openGitSession(url, credentials, { protocolVersion: this.opts.protocolVersion });
    } catch (err) {
      throw new ReconcileError(
        Reason.ArtifactFailed,
        `source ${publicGitUrl(url)}: cannot write the SSH key file: ${errText(err)}`,
      );
    }
    try {
      await this.downloadIn(auth, commit, dir, tmp);
    } finally {
      await auth.close().catch(() => undefined);
    }
  }

  private async downloadIn(auth: GitSession, commit: string, dir: string, tmp: string): Promise<void> {
    const env = auth.env;
    const started = Date.now();
    const maxBytes = this.opts.maxSourceBytes ?? DEFAULT_SOURCE_LIMITS.maxSourceBytes;
    const tooLarge = (bytes: number) =>
      limitError(
        Reason.ArtifactFailed,
        `source ${auth.url}@${commit.slice(0, 12)}`,
        `the fetched repository has ${bytes > maxBytes ? 'more' : bytes} bytes`,
        'maxSourceBytes',
        maxBytes,
      );
    // git has no size limit of its own for a fetch: measure the directory while it runs
    const abort = new AbortController();
    let oversize: number | undefined;
    let measuring = false;
    const watch = setInterval(() => {
      if (measuring) return;
      measuring = true;
      void treeBytes(tmp, maxBytes)
        .then((n) => {
          if (n > maxBytes) {
            oversize = n;
            abort.abort();
          }
        })
        .catch(() => undefined)
        .finally(() => (measuring = false));
    }, this.opts.sizeCheckMs ?? 250);
    const git = (args: string[]) =>
      this.git(args, env, auth, abort.signal).catch((err: unknown) => {
        if (oversize !== undefined) throw tooLarge(oversize);
        throw err;
      });
    try {
      await mkdir(tmp);
      await git(['init', '-q', '--', tmp]);
      try {
        // "--" before the URL in every git call: a URL is never read as an option (--upload-pack=…)
        await git(['-C', tmp, 'fetch', '-q', '--no-tags', '--depth', '1', '--', auth.url, commit]);
      } catch (shallowErr) {
        if (shallowErr instanceof ReconcileError) throw shallowErr;
        this.opts.log.debug(
          { url: auth.url, err: errText(shallowErr) },
          'shallow fetch by SHA refused, fetching all',
        );
        try {
          await git([
            '-C',
            tmp,
            'fetch',
            '-q',
            '--no-tags',
            '--',
            auth.url,
            '+refs/heads/*:refs/remotes/origin/*',
            '+refs/tags/*:refs/tags/*',
          ]);
        } catch (fullErr) {
          if (fullErr instanceof ReconcileError) throw fullErr;
          throw new ReconcileError(Reason.ArtifactFailed, `fetch ${auth.url}: ${errText(fullErr)}`, {
            cause: undefined,
          });
        }
      }
      try {
        await git(['-C', tmp, 'checkout', '-q', '--detach', commit]);
      } catch (err) {
        if (err instanceof ReconcileError) throw err;
        throw new ReconcileError(
          Reason.ArtifactFailed,
          `commit ${commit} not found in ${auth.url}: ${errText(err)}`,
        );
      }
      const head = (await git(['-C', tmp, 'rev-parse', 'HEAD'])).trim();
      if (head !== commit) {
        throw new ReconcileError(
          Reason.ArtifactFailed,
          `checkout of ${auth.url} gave ${head}, want ${commit}`,
        );
      }
      const bytes = await treeBytes(tmp, maxBytes);
      if (bytes > maxBytes) throw tooLarge(bytes);
      await rm(join(tmp, '.git'), { recursive: true, force: true });
      // the checkout's size, for the cache's byte budget without walking it again
      await writeFile(join(tmp, COMPLETE), `${commit}\n${await treeBytes(tmp)}\n`);
      await publishRevision(tmp, dir);
      this.opts.log.info({ url: auth.url, commit, ms: Date.now() - started }, 'fetched git source');
    } catch (err) {
      if (err instanceof ReconcileError) throw err;
      throw new ReconcileError(Reason.ArtifactFailed, `fetch ${auth.url}@${commit}: ${errText(err)}`);
    } finally {
      clearInterval(watch);
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Keeps the newest `keepPerRepo` checkouts of a repository, and any in use. */
  private evict(repoDir: string): Promise<void> {
    return keepNewestRevisions(
      repoDir,
      SHA,
      this.opts.keepPerRepo ?? 3,
      (path) => this.inUse.has(path) || this.inflight.has(path),
    );
  }

  /** Keeps the whole cache within cacheMaxBytes, removing least recently used checkouts first. */
  private async evictToBudget(): Promise<void> {
    const maxBytes = this.opts.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES;
    const root = join(this.opts.cacheDir, 'git');
    const entries: CacheEntry[] = [];
    for (const repo of await readdir(root, { withFileTypes: true }).catch(() => [])) {
      if (!repo.isDirectory()) continue;
      const repoDir = join(root, repo.name);
      for (const e of await readdir(repoDir, { withFileTypes: true }).catch(() => [])) {
        if (!e.isDirectory() || !SHA.test(e.name)) continue;
        const path = join(repoDir, e.name);
        const st = await stat(path).catch(() => undefined);
        if (!st) continue;
        entries.push({
          path,
          bytes: await checkoutBytes(path),
          lastUsedMs: st.mtimeMs,
          pinned: this.inUse.has(path) || this.inflight.has(path),
        });
      }
    }
    for (const e of lruEvictions(entries, maxBytes)) {
      // re-checked: a fetch may have started using it since the listing
      if (this.inUse.has(e.path) || this.inflight.has(e.path)) continue;
      await rm(e.path, { recursive: true, force: true });
      this.opts.log.info(
        { path: e.path, bytes: e.bytes, maxBytes },
        'evicted git checkout (cache over budget)',
      );
    }
  }

  private git(
    args: string[],
    env: NodeJS.ProcessEnv,
    auth: GitSession,
    signal?: AbortSignal,
  ): Promise<string> {
    const timeout = this.opts.timeoutMs ?? 120_000;
    return new Promise((resolve, reject) => {
      execFile(
        this.opts.git ?? 'git',
        args,
        { env, timeout, signal, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string };
          const reason = gitFailureReason(stderr, auth.kind);
          if (reason) {
            // auth, host key, unreachable: no fallback fetch can help, and the message says what to fix
            return reject(new ReconcileError(Reason.ArtifactFailed, `fetch ${auth.url}: ${reason}`));
          }
          let text =
            e.killed || e.signal === 'SIGKILL' ? `timed out after ${timeout} ms` : stderr.trim() || e.message;
          text = scrubSecrets(text, auth.secrets);
          // the last lines say why; earlier ones are progress
          reject(new Error(text.split('\n').slice(-3).join(' ').trim()));
        },
      );
    });
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Bytes of the files under `dir` (links not followed); stops counting once past `stopAt`. */
export async function treeBytes(dir: string, stopAt = Infinity): Promise<number> {
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (total > stopAt) return;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else total += (await lstat(p).catch(() => undefined))?.size ?? 0;
    }
  };
  await walk(dir);
  return total;
}

/** A checkout's bytes: recorded in its marker when it was written, else measured. */
async function checkoutBytes(dir: string): Promise<number> {
  const marker = await readFile(join(dir, COMPLETE), 'utf8').catch(() => '');
  const recorded = Number(marker.split('\n')[1]);
  return Number.isSafeInteger(recorded) && recorded > 0 ? recorded : treeBytes(dir);
}
