import { Inject, Injectable } from '@nestjs/common';
import type { Tenant } from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  NotFoundError,
  ValidationError,
} from '../common/errors.js';
import { checkDnsLabel } from '../common/names.js';
import { HUB_LOGGER } from '../config/config.module.js';
import { isForeignKeyViolation, isUniqueViolation } from '../store/database.js';
import { validateTenant } from './tenant.validation.js';
import { TenantsRepository } from './tenants.repository.js';

@Injectable()
export class TenantsService {
  private readonly log: Logger;

  constructor(
    @Inject(TenantsRepository) private readonly repo: TenantsRepository,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'tenants' });
  }

  async create(input: Partial<Tenant> | null | undefined): Promise<Tenant> {
    const spec = validateTenant(input);
    if (await this.repo.get(spec.name)) throw new AlreadyExistsError('tenant', spec.name);
    const tenant: Tenant = { ...spec, createdAtMs: Date.now() };
    try {
      await this.repo.insert(tenant);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AlreadyExistsError('tenant', spec.name);
      throw err;
    }
    this.log.info({ tenant: tenant.name, namespaces: tenant.namespaces }, 'tenant created');
    return tenant;
  }

  async get(name: string): Promise<Tenant> {
    if (!name) throw new ValidationError('name', 'required');
    const tenant = await this.repo.get(name);
    if (!tenant) throw new NotFoundError('tenant', name);
    return tenant;
  }

  list(): Promise<Tenant[]> {
    return this.repo.list();
  }

  async delete(name: string): Promise<void> {
    checkDnsLabel('name', name);
    await this.get(name);
    const deps = await this.repo.dependents(name);
    if (deps.repos.length || deps.assignments.length) throw dependentsError(name, deps);
    try {
      if (!(await this.repo.delete(name))) throw new NotFoundError('tenant', name);
    } catch (err) {
      // a repo or assignment was created concurrently
      if (isForeignKeyViolation(err)) throw dependentsError(name, await this.repo.dependents(name));
      throw err;
    }
    // a tenant is deleted only when it owns no repo or assignment: no desired set changes
    this.log.info({ tenant: name }, 'tenant deleted');
  }
}

function dependentsError(
  name: string,
  deps: { repos: string[]; assignments: string[] },
): FailedPreconditionError {
  const parts: string[] = [];
  if (deps.assignments.length) parts.push(`assignments ${deps.assignments.join(', ')}`);
  if (deps.repos.length) parts.push(`repos ${deps.repos.join(', ')}`);
  return new FailedPreconditionError(
    `tenant ${JSON.stringify(name)} still owns ${parts.join(' and ')}: delete them first`,
  );
}
