import { Inject, Injectable } from '@nestjs/common';
import type { Tenant } from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  NamesTenantError,
  NotFoundError,
  ValidationError,
} from '../common/errors.js';
import { checkDnsLabel } from '../common/names.js';
import { HUB_CONFIG, HUB_LOGGER } from '../config/config.module.js';
import type { ResolvedHubConfig } from '../config/hub-config.js';
import { DesiredService } from '../desired/desired.service.js';
import { isForeignKeyViolation, isUniqueViolation } from '../store/database.js';
import { validateTenant, type TenantSpec } from './tenant.validation.js';
import { TenantsRepository, type TenantDependents } from './tenants.repository.js';

@Injectable()
export class TenantsService {
  private readonly log: Logger;

  constructor(
    @Inject(TenantsRepository) private readonly repo: TenantsRepository,
    @Inject(DesiredService) private readonly desired: DesiredService,
    @Inject(HUB_CONFIG) private readonly config: ResolvedHubConfig,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'tenants' });
  }

  async create(input: Partial<Tenant> | null | undefined): Promise<Tenant> {
    const spec = validateTenant(input, this.config.tenantClusterRoles);
    if (await this.repo.get(spec.name)) throw new AlreadyExistsError('tenant', spec.name);
    await this.refuseOwnedNamespaces(spec);
    const tenant: Tenant = { ...spec, createdAtMs: Date.now() };
    try {
      await this.repo.insert(tenant);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      if (await this.repo.get(spec.name)) throw new AlreadyExistsError('tenant', spec.name);
      // another tenant claimed one of these namespaces since the check above
      await this.refuseOwnedNamespaces(spec);
      throw err;
    }
    this.log.info(
      { tenant: tenant.name, namespaces: tenant.namespaces, clusterRole: tenant.clusterRole },
      'tenant created',
    );
    return tenant;
  }

  /**
   * Replaces namespaces, cluster role and allowed cluster kinds; the clusters that run the
   * tenant's assignments get the new identity at once. A namespace an assignment still targets
   * cannot be dropped.
   */
  async update(input: Partial<Tenant> | null | undefined): Promise<Tenant> {
    const spec = validateTenant(input, this.config.tenantClusterRoles);
    const current = await this.get(spec.name);
    await this.refuseOwnedNamespaces(spec);
    const assignments = await this.repo.assignments(spec.name);
    const stranded = assignments.filter((a) => !spec.namespaces.includes(a.targetNamespace));
    if (stranded.length > 0) {
      throw new FailedPreconditionError(
        `tenant ${JSON.stringify(spec.name)}: assignments ${stranded.map((a) => `${a.name} (namespace ${a.targetNamespace})`).join(', ')} still target a namespace this update drops: move or delete them first`,
      );
    }
    const tenant: Tenant = { ...spec, createdAtMs: current.createdAtMs };
    try {
      if (!(await this.repo.update(tenant))) throw new NotFoundError('tenant', spec.name);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      await this.refuseOwnedNamespaces(spec);
      throw err;
    }
    this.log.info(
      { tenant: tenant.name, namespaces: tenant.namespaces, clusterRole: tenant.clusterRole },
      'tenant updated',
    );
    await this.desired.projectSelectedBy(assignments);
    return tenant;
  }

  /**
   * FAILED_PRECONDITION when another tenant owns one of the namespaces. The message names the
   * owner, so that the operator knows whom to ask; callers that may not learn other tenants'
   * names (tenant tokens) get it without (NamesTenantError, hub/auth/access.ts visibleError).
   */
  private async refuseOwnedNamespaces(spec: TenantSpec): Promise<void> {
    const owners = await this.repo.ownersOf(spec.namespaces, spec.name);
    const i = spec.namespaces.findIndex((ns) => owners.has(ns));
    if (i < 0) return;
    const ns = `tenant.namespaces[${i}]: namespace ${JSON.stringify(spec.namespaces[i])}`;
    const rule = 'a namespace belongs to one tenant only, choose another';
    throw new NamesTenantError(
      `${ns} is owned by tenant ${JSON.stringify(owners.get(spec.namespaces[i]))}: ${rule}`,
      `${ns} is owned by another tenant: ${rule}`,
    );
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
    // alerts too: a tenant created again under this name must not inherit them
    if (deps.repos.length || deps.assignments.length || deps.alerts.length) throw dependentsError(name, deps);
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

function dependentsError(name: string, deps: TenantDependents): FailedPreconditionError {
  const parts: string[] = [];
  if (deps.assignments.length) parts.push(`assignments ${deps.assignments.join(', ')}`);
  if (deps.repos.length) parts.push(`repos ${deps.repos.join(', ')}`);
  if (deps.alerts.length) parts.push(`alerts ${deps.alerts.join(', ')}`);
  return new FailedPreconditionError(
    `tenant ${JSON.stringify(name)} still owns ${parts.join(' and ')}: delete them first`,
  );
}
