// Repos: create, read, update, delete. Resolving a repo's ref to a revision (on create, on
// demand, on its interval) is the RepoResolver's job.
import { Inject, Injectable } from '@nestjs/common';
import type { Repo } from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import { scrubSecrets } from '../../lib/redact.js';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  NotFoundError,
  ValidationError,
  scoped,
} from '../common/errors.js';
import { checkDnsLabel } from '../common/names.js';
import { HUB_LOGGER } from '../config/config.module.js';
import { isForeignKeyViolation, isUniqueViolation } from '../store/database.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { RepoResolver } from './repo.resolver.js';
import { ociRefOf } from './oci-ref.js';
import { mergeFields } from '../common/field-mask.js';
import { REPO_DEFAULTS, REPO_FIELDS } from './repo-fields.js';
import { gitRefOf, validateRepo, type RepoInput } from './repo.validation.js';
import { ReposRepository } from './repos.repository.js';

/** What API responses carry: never the credentials themselves. */
export function publicRepo(repo: Repo): Repo {
  return { ...repo, credentials: undefined };
}

@Injectable()
export class ReposService {
  private readonly log: Logger;

  constructor(
    @Inject(ReposRepository) private readonly repos: ReposRepository,
    @Inject(TenantsService) private readonly tenants: TenantsService,
    @Inject(RepoResolver) private readonly resolver: RepoResolver,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'repos' });
  }

  async create(input: Partial<Repo> | null | undefined): Promise<Repo> {
    const spec = validateRepo(input);
    await this.tenants.get(spec.tenant);
    const id = scoped(spec.tenant, spec.name);
    if (await this.repos.get(spec.tenant, spec.name)) throw new AlreadyExistsError('repo', id);
    const repo: Repo = {
      ...spec,
      revision: '',
      resolvedAtMs: 0,
      resolveError: '',
      createdAtMs: Date.now(),
      hasCredentials: spec.credentials !== undefined,
    };
    try {
      await this.repos.insert(repo);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AlreadyExistsError('repo', id);
      if (isForeignKeyViolation(err)) throw new NotFoundError('tenant', spec.tenant);
      throw err;
    }
    this.log.info(
      {
        repo: id,
        url: scrubSecrets(repo.url),
        ref: repo.type === 'oci' ? ociRefOf(repo) : gitRefOf(repo),
        hasCredentials: repo.hasCredentials,
      },
      'repo created',
    );
    await this.resolver.resolveBriefly(spec.tenant, spec.name);
    return this.get(spec.tenant, spec.name);
  }

  /** Replaces the source spec; the pinned revision stays until the new ref resolves. */
  /**
   * Changes the fields named in `fields` (snake_case paths) and keeps the others, or replaces the
   * whole spec when `fields` is empty. Stored credentials stay unless new ones are given.
   */
  async update(input: RepoInput | null | undefined, fields: readonly string[] = []): Promise<Repo> {
    if (!input) throw new ValidationError('repo', 'required');
    let merged = input;
    if (fields.length > 0) {
      const current = await this.get(
        checkDnsLabel('repo.tenant', input.tenant ?? ''),
        checkDnsLabel('repo.name', input.name ?? ''),
      );
      merged = mergeFields<RepoInput>(current, input, fields, REPO_FIELDS, REPO_DEFAULTS);
    }
    const spec = validateRepo(merged);
    const id = scoped(spec.tenant, spec.name);
    await this.get(spec.tenant, spec.name);
    if (!(await this.repos.updateSpec(spec))) throw new NotFoundError('repo', id);
    this.log.info(
      {
        repo: id,
        url: scrubSecrets(spec.url),
        ref: spec.type === 'oci' ? ociRefOf(spec) : gitRefOf(spec),
        newCredentials: spec.credentials !== undefined,
      },
      'repo updated',
    );
    await this.resolver.resolveBriefly(spec.tenant, spec.name);
    const repo = await this.get(spec.tenant, spec.name);
    this.resolver.reschedule(repo);
    return repo;
  }

  async get(tenant: string, name: string): Promise<Repo> {
    checkDnsLabel('tenant', tenant);
    checkDnsLabel('name', name);
    const repo = await this.repos.get(tenant, name);
    if (!repo) throw new NotFoundError('repo', scoped(tenant, name));
    return publicRepo(repo);
  }

  async list(tenant: string): Promise<Repo[]> {
    if (tenant) await this.tenants.get(tenant);
    return (await this.repos.list(tenant || undefined)).map(publicRepo);
  }

  async delete(tenant: string, name: string): Promise<void> {
    await this.get(tenant, name);
    const id = scoped(tenant, name);
    const users = await this.repos.usedBy(tenant, name);
    const inUse = (names: string[]): FailedPreconditionError =>
      new FailedPreconditionError(
        `repo ${JSON.stringify(id)} is used by assignments ${names.join(', ')}: delete them first`,
      );
    if (users.length) throw inUse(users);
    try {
      if (!(await this.repos.delete(tenant, name))) throw new NotFoundError('repo', id);
    } catch (err) {
      if (isForeignKeyViolation(err)) throw inUse(await this.repos.usedBy(tenant, name));
      throw err;
    }
    this.resolver.forget(tenant, name);
    this.log.info({ repo: id }, 'repo deleted');
  }

  /** ResolveRepo: resolves now (after any resolution in flight) and returns the result. */
  async resolve(tenant: string, name: string): Promise<Repo> {
    await this.get(tenant, name);
    await this.resolver.resolve(tenant, name);
    return this.get(tenant, name);
  }
}
