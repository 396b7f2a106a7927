// History and rollback of one assignment: the revisions its clusters reported as applied, and a
// pin to one of them (Assignment.pinned_revision) that the desired-set projection uses instead
// of the repo's revision, for this assignment alone, until it is unpinned.
import { Inject, Injectable } from '@nestjs/common';
import {
  parseGitRevision,
  parseOciRevision,
  shortRevision,
  type Assignment,
  type AssignmentRevision,
} from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import { FailedPreconditionError, NotFoundError, ValidationError, scoped } from '../common/errors.js';
import { checkDnsLabel, hasControlChars } from '../common/names.js';
import { HUB_LOGGER } from '../config/config.module.js';
import { DesiredService } from '../desired/desired.service.js';
import type { HubDb } from '../store/database.js';
import { HUB_DB } from '../store/store.module.js';
import { AssignmentHistoryRepository, type HistoryEntry } from './assignment-history.repository.js';
import { AssignmentsRepository } from './assignments.repository.js';
import { AssignmentsService } from './assignments.service.js';

/** Longest --to accepted (a git revision with a long branch name stays far below). */
export const MAX_REVISION_LENGTH = 400;

export interface RollbackRequest {
  tenant: string;
  name: string;
  toRevision: string;
  unpin: boolean;
}

/**
 * Whether `to` names `revision`: the full string, or its commit/digest (at least 7 hex
 * characters, "sha1:"/"sha256:" and "<ref>@" optional) as `gitfleet history` shows it.
 */
export function namesRevision(revision: string, to: string): boolean {
  if (revision === to) return true;
  const want = /^(?:(.+)@)?(?:(sha1|sha256):)?([0-9a-f]{7,64})$/.exec(to);
  const have = /^(?:(.+)@)?(sha1|sha256):([0-9a-f]+)$/.exec(revision);
  if (!want || !have) return false;
  return (
    (!want[1] || want[1] === have[1]) && (!want[2] || want[2] === have[2]) && have[3].startsWith(want[3])
  );
}

/** The revision `to` names in `entries`, or the one applied before `current` when `to` is empty. */
export function rollbackTarget(
  entries: readonly HistoryEntry[],
  current: string,
  to: string,
  id: string,
): string {
  const known = () =>
    entries.length === 0
      ? 'its history is empty (no cluster has reported a revision of it as applied yet)'
      : `its history holds ${entries.map((e) => shortRevision(e.revision)).join(', ')} (see gitfleet history assignment)`;
  if (to) {
    const found = entries.filter((e) => namesRevision(e.revision, to));
    if (found.length === 1) return found[0].revision;
    if (found.length > 1)
      throw new ValidationError(
        'to_revision',
        `${JSON.stringify(to)} names ${found.length} revisions of assignment ${JSON.stringify(id)} (${found.map((e) => e.revision).join(', ')}): give more of it`,
      );
    throw new FailedPreconditionError(
      `revision ${JSON.stringify(to)} is not in the history of assignment ${JSON.stringify(id)}: only a revision one of its clusters applied can be pinned; ${known()}`,
    );
  }
  const at = entries.findIndex((e) => e.revision === current);
  const before = entries.slice(at + 1).find((e) => e.revision !== current);
  if (!before)
    throw new FailedPreconditionError(
      `assignment ${JSON.stringify(id)} has no revision applied before ${current ? shortRevision(current) : 'the current one'}: ${known()}`,
    );
  return before.revision;
}

@Injectable()
export class AssignmentRollbackService {
  private readonly log: Logger;

  constructor(
    @Inject(AssignmentsRepository) private readonly assignments: AssignmentsRepository,
    @Inject(AssignmentHistoryRepository) private readonly history: AssignmentHistoryRepository,
    @Inject(AssignmentsService) private readonly service: AssignmentsService,
    @Inject(DesiredService) private readonly desired: DesiredService,
    @Inject(HUB_DB) private readonly db: HubDb,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'rollback' });
  }

  private async load(tenant: string, name: string): Promise<Assignment> {
    checkDnsLabel('tenant', tenant);
    checkDnsLabel('name', name);
    const a = await this.assignments.get(tenant, name);
    if (!a) throw new NotFoundError('assignment', scoped(tenant, name));
    return a;
  }

  /** The repo's type and resolved revision ("" until it resolves). */
  private async repoOf(a: Assignment): Promise<{ type: string; revision: string }> {
    const row = await this.db
      .selectFrom('repos')
      .select(['type', 'revision'])
      .where('tenant', '=', a.tenant)
      .where('name', '=', a.repo)
      .executeTakeFirst();
    return { type: row?.type || 'git', revision: row?.revision ?? '' };
  }

  /** The assignment's revisions, newest first; `current` marks the one its clusters should run. */
  async list(tenant: string, name: string): Promise<AssignmentRevision[]> {
    const a = await this.load(tenant, name);
    const current = a.pinnedRevision || (await this.repoOf(a)).revision;
    return (await this.history.list(tenant, name)).map((e) => ({ ...e, current: e.revision === current }));
  }

  async rollback(req: RollbackRequest): Promise<Assignment> {
    const a = await this.load(req.tenant, req.name);
    const id = scoped(a.tenant, a.name);
    const to = req.toRevision ?? '';
    if (req.unpin) {
      if (to) throw new ValidationError('to_revision', 'give either a revision or unpin, not both');
      if (a.pinnedRevision) {
        await this.assignments.setPin(a.tenant, a.name, '', Date.now());
        this.log.info(
          { assignment: id, was: a.pinnedRevision },
          'assignment unpinned: it follows its repo again',
        );
        await this.desired.projectSelectedBy([a]);
      }
      return this.service.get(a.tenant, a.name);
    }
    if (to.length > MAX_REVISION_LENGTH || hasControlChars(to))
      throw new ValidationError(
        'to_revision',
        `not a revision (${to.length} characters${hasControlChars(to) ? ', control characters' : ''}): give one that gitfleet history assignment lists`,
      );
    const repo = await this.repoOf(a);
    const target = rollbackTarget(
      await this.history.list(a.tenant, a.name),
      a.pinnedRevision || repo.revision,
      to,
      id,
    );
    // a revision of the repo's kind only: the agent fetches a commit for git, a digest for OCI
    try {
      if (repo.type === 'oci') parseOciRevision(target);
      else parseGitRevision(target);
    } catch {
      throw new FailedPreconditionError(
        `revision ${JSON.stringify(target)} of assignment ${JSON.stringify(id)} is not a revision of its ${repo.type} repo ${JSON.stringify(a.repo)} (it changed kind since)`,
      );
    }
    if (target !== a.pinnedRevision) {
      await this.assignments.setPin(a.tenant, a.name, target, Date.now());
      this.log.info(
        { assignment: id, revision: target, repoRevision: repo.revision },
        'assignment pinned by rollback',
      );
      await this.desired.projectSelectedBy([a]);
    }
    return this.service.get(a.tenant, a.name);
  }
}
