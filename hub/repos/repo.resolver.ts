// Revision resolution: each repo's ref is resolved to an exact commit on create, on demand
// (ResolveRepo), and on its interval by a scheduler that keeps one resolution in flight per repo
// and spreads repos with jitter. A failed resolution keeps the last good revision and records
// why; a new revision (or a new error) re-projects the desired sets of the clusters that run it.
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Repo } from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import { jitter } from '../../lib/limit.js';
import { scrubSecrets } from '../../lib/redact.js';
import { scoped } from '../common/errors.js';
import { KeyedQueue } from '../common/keyed-queue.js';
import { HUB_CONFIG, HUB_LOGGER } from '../config/config.module.js';
import type { ResolvedHubConfig } from '../config/hub-config.js';
import { DesiredService } from '../desired/desired.service.js';
import { lsRemotePatterns, parseLsRemote, revisionFor, revisionIn } from './git-ref.js';
import type { GitRemote } from './git-remote.repository.js';
import { ociRefOf } from './oci-ref.js';
import type { OciRemote } from './oci-remote.repository.js';
import { gitRefOf } from './repo.validation.js';
import { ReposRepository, type Resolution } from './repos.repository.js';

/** Injection token of the GitRemote (the real one runs `git ls-remote`). */
export const GIT_REMOTE = Symbol('GIT_REMOTE');
/** Injection token of the OciRemote (the real one asks the registry). */
export const OCI_REMOTE = Symbol('OCI_REMOTE');

/** How long a create or update waits for the first resolution before answering. */
export const CREATE_WAITS_MS = 10_000;

@Injectable()
export class RepoResolver implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: Logger;
  private readonly queue = new KeyedQueue();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    @Inject(ReposRepository) private readonly repos: ReposRepository,
    @Inject(GIT_REMOTE) private readonly git: GitRemote,
    @Inject(OCI_REMOTE) private readonly oci: OciRemote,
    @Inject(DesiredService) private readonly desired: DesiredService,
    @Inject(HUB_CONFIG) private readonly config: Pick<ResolvedHubConfig, 'resolveIntervalSeconds'>,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'repos' });
  }

  /** Resolves now (after any resolution in flight), then schedules the next one. */
  async resolve(tenant: string, name: string): Promise<void> {
    const id = scoped(tenant, name);
    await this.queue.run(id, () => this.resolveOnce(tenant, name));
    const repo = await this.repos.get(tenant, name);
    if (repo && !this.stopped) this.schedule(id, tenant, name, this.nextDelay(repo));
  }

  /**
   * Starts a resolution and waits for it at most `CREATE_WAITS_MS`: a quick remote answers the
   * caller with a revision, a slow one finishes in the background. Never throws.
   */
  async resolveBriefly(tenant: string, name: string): Promise<void> {
    const first = this.resolve(tenant, name).catch((err: unknown) =>
      this.log.error({ err, repo: scoped(tenant, name) }, 'resolution failed'),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      first,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, CREATE_WAITS_MS))),
    ]);
    clearTimeout(timer);
  }

  /** Restarts the repo's schedule from now (its interval may have changed). */
  reschedule(repo: Pick<Repo, 'tenant' | 'name' | 'intervalSeconds'>): void {
    if (!this.stopped)
      this.schedule(scoped(repo.tenant, repo.name), repo.tenant, repo.name, this.nextDelay(repo));
  }

  /** The repo is gone: no more scheduled resolutions. */
  forget(tenant: string, name: string): void {
    this.unschedule(scoped(tenant, name));
  }

  /**
   * One resolution: ls-remote (unless pinned; every tag for a SemVer range), record the outcome,
   * re-project on change.
   */
  private async resolveOnce(tenant: string, name: string): Promise<void> {
    const repo = await this.repos.get(tenant, name, true);
    if (!repo) return;
    const id = scoped(tenant, name);
    const ref = gitRefOf(repo);
    let outcome: Resolution;
    try {
      let revision: string;
      // an OCI repo: its tag's or range's digest, asked of the registry (a pinned digest too: it must exist)
      if (repo.type === 'oci') revision = await this.oci.resolve(repo.url, ociRefOf(repo), repo.credentials);
      else if (ref.kind === 'commit') revision = revisionFor(ref, ref.name);
      else {
        const refs = parseLsRemote(
          await this.git.lsRemote(repo.url, lsRemotePatterns(ref), repo.credentials),
        );
        revision = revisionIn(refs, ref, scrubSecrets(repo.url));
      }
      outcome = { ok: true, revision, atMs: Date.now() };
    } catch (err) {
      const c = repo.credentials;
      const message = scrubSecrets((err as Error).message, [
        c?.password,
        c?.bearerToken,
        c?.sshPrivateKey?.trim(),
      ]);
      outcome = { ok: false, error: `repo ${JSON.stringify(id)}: ${message}` };
    }
    if (this.stopped || !(await this.repos.saveResolution(tenant, name, outcome))) return; // deleted meanwhile
    if (outcome.ok && outcome.revision !== repo.revision) {
      this.log.info(
        { repo: id, from: repo.revision || undefined, to: outcome.revision },
        'repo revision changed',
      );
      await this.desired.projectRepo(tenant, name);
    } else if (outcome.ok && repo.resolveError) {
      this.log.info({ repo: id, revision: outcome.revision }, 'repo resolves again');
      await this.desired.projectRepo(tenant, name);
    } else if (!outcome.ok && outcome.error !== repo.resolveError) {
      this.log.warn(
        { repo: id, err: outcome.error, keeping: repo.revision || undefined },
        'repo resolution failed',
      );
      await this.desired.projectRepo(tenant, name);
    }
  }

  // ---- scheduler ---------------------------------------------------------------------------

  async onApplicationBootstrap(): Promise<void> {
    const repos = await this.repos.list();
    for (const r of repos) {
      // soon after start, spread out
      this.schedule(scoped(r.tenant, r.name), r.tenant, r.name, jitter(Math.min(this.intervalMs(r), 3000)));
    }
    if (repos.length) this.log.info({ repos: repos.length }, 'revision resolution scheduled');
  }

  private intervalMs(repo: Pick<Repo, 'intervalSeconds'>): number {
    return (this.config.resolveIntervalSeconds ?? repo.intervalSeconds) * 1000;
  }

  /** The repo's interval, ±10 % so that repos created together drift apart. */
  private nextDelay(repo: Pick<Repo, 'intervalSeconds'>): number {
    const interval = this.intervalMs(repo);
    return Math.round(interval * 0.9 + jitter(interval * 0.2));
  }

  private schedule(id: string, tenant: string, name: string, delayMs: number): void {
    this.unschedule(id);
    const timer = setTimeout(() => void this.tick(id, tenant, name), delayMs);
    timer.unref();
    this.timers.set(id, timer);
  }

  private unschedule(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  private async tick(id: string, tenant: string, name: string): Promise<void> {
    this.timers.delete(id);
    if (this.stopped) return;
    let repo: Repo | undefined;
    try {
      repo = await this.repos.get(tenant, name);
    } catch (err) {
      this.log.error({ err, repo: id }, 'cannot load repo for its scheduled resolution; trying again later');
      if (!this.stopped) this.schedule(id, tenant, name, this.intervalMs({ intervalSeconds: 60 }));
      return;
    }
    if (!repo) return; // deleted
    if (!this.queue.busy(id)) {
      try {
        await this.queue.run(id, () => this.resolveOnce(tenant, name));
      } catch (err) {
        this.log.error({ err, repo: id }, 'scheduled resolution failed');
      }
    }
    if (!this.stopped && !this.timers.has(id)) this.schedule(id, tenant, name, this.nextDelay(repo));
  }

  onModuleDestroy(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
