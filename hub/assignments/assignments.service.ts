import { Inject, Injectable } from '@nestjs/common';
import type { Assignment } from '../../proto/index.js';
import { Semaphore } from '../../lib/limit.js';
import type { Logger } from '../../lib/log.js';
import { AlreadyExistsError, NotFoundError, scoped, ValidationError } from '../common/errors.js';
import { mergeFields } from '../common/field-mask.js';
import { checkDnsLabel } from '../common/names.js';
import { HUB_LOGGER } from '../config/config.module.js';
import { DesiredService } from '../desired/desired.service.js';
import { assignmentSelects } from '../desired/selector.js';
import { isForeignKeyViolation, isUniqueViolation } from '../store/database.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { ASSIGNMENT_DEFAULTS, ASSIGNMENT_FIELDS, withSelectorPaths } from './assignment-fields.js';
import { checkDependencies, checkNoDependents } from './assignment-dependencies.js';
import { validateAssignment, type AssignmentSpec } from './assignment.validation.js';
import { AssignmentsRepository } from './assignments.repository.js';
import { GroupsRepository } from '../groups/groups.repository.js';

@Injectable()
export class AssignmentsService {
  private readonly log: Logger;
  /**
   * Writes one at a time: the dependency checks read the tenant's assignments, and two updates
   * checked side by side could close a cycle neither saw (the agent still reports one if it does).
   */
  private readonly writes = new Semaphore(1);

  constructor(
    @Inject(AssignmentsRepository) private readonly assignments: AssignmentsRepository,
    @Inject(TenantsService) private readonly tenants: TenantsService,
    @Inject(DesiredService) private readonly desired: DesiredService,
    @Inject(GroupsRepository) private readonly groups: GroupsRepository,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'assignments' });
  }

  private async validate(input: Partial<Assignment> | null | undefined): Promise<AssignmentSpec> {
    if (!input) throw new ValidationError('assignment', 'required');
    checkDnsLabel('assignment.tenant', input.tenant ?? '');
    const tenant = await this.tenants.get(input.tenant!);
    const spec = validateAssignment(input, tenant);
    if (!(await this.assignments.repoExists(spec.tenant, spec.repo))) {
      throw new NotFoundError('repo', scoped(spec.tenant, spec.repo));
    }
    // clusters named explicitly must exist; a selector may match none yet (clusters join later)
    const known = new Set((await this.assignments.clusterIdentities()).map((c) => c.name));
    const missing = spec.clusters.filter((c) => !known.has(c));
    if (missing.length > 0) {
      throw new NotFoundError(missing.length === 1 ? 'cluster' : 'clusters', missing.join(', '));
    }
    // groups are the operator's: a tenant may name one, which must exist, without reading it
    const named = [...new Set([...spec.groups, ...spec.groupVars.map((g) => g.group)])];
    if (named.length > 0) {
      const groups = new Set((await this.groups.list()).map((g) => g.name));
      const unknown = named.filter((g) => !groups.has(g));
      if (unknown.length > 0) {
        throw new NotFoundError(
          unknown.length === 1 ? 'group' : 'groups',
          `${unknown.join(', ')} (an admin creates groups: gitfleet group create)`,
        );
      }
    }
    if (spec.dependsOn.length > 0) checkDependencies(spec, await this.assignments.list(spec.tenant));
    return spec;
  }

  /** The assignments with matched_clusters: how many registered clusters each selects now. */
  private async withMatches(assignments: Assignment[]): Promise<Assignment[]> {
    const clusters = await this.assignments.clusterIdentities();
    return assignments.map((a) => ({
      ...a,
      matchedClusters: clusters.filter((c) => assignmentSelects(a, c, c.inGroups)).length,
    }));
  }

  create(input: Partial<Assignment> | null | undefined): Promise<Assignment> {
    return this.writes.run(() => this.createNow(input));
  }

  private async createNow(input: Partial<Assignment> | null | undefined): Promise<Assignment> {
    const spec = await this.validate(input);
    const id = scoped(spec.tenant, spec.name);
    if (await this.assignments.get(spec.tenant, spec.name)) throw new AlreadyExistsError('assignment', id);
    const now = Date.now();
    const assignment: Assignment = {
      ...spec,
      pinnedRevision: '',
      createdAtMs: now,
      updatedAtMs: now,
      matchedClusters: 0,
    };
    await this.desired.assertFits(assignment);
    try {
      await this.assignments.insert(assignment);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AlreadyExistsError('assignment', id);
      if (isForeignKeyViolation(err)) throw new NotFoundError('repo', scoped(spec.tenant, spec.repo));
      throw err;
    }
    this.log.info(
      { assignment: id, repo: spec.repo, path: spec.path, clusters: spec.clusters, selector: spec.selector },
      'assignment created',
    );
    await this.desired.projectSelectedBy([assignment]);
    return (await this.withMatches([assignment]))[0];
  }

  /**
   * Changes the fields named in `fields` (snake_case paths) and keeps the others, or replaces the
   * whole spec when `fields` is empty; the merged spec is validated as a whole.
   */
  update(input: Partial<Assignment> | null | undefined, fields: readonly string[] = []): Promise<Assignment> {
    return this.writes.run(() => this.updateNow(input, fields));
  }

  private async updateNow(
    input: Partial<Assignment> | null | undefined,
    fields: readonly string[],
  ): Promise<Assignment> {
    if (!input) throw new ValidationError('assignment', 'required');
    const tenant = checkDnsLabel('assignment.tenant', input.tenant ?? '');
    const id = scoped(tenant, checkDnsLabel('assignment.name', input.name ?? ''));
    const current = await this.assignments.get(tenant, input.name!);
    if (!current) throw new NotFoundError('assignment', id);
    const spec = await this.validate(
      fields.length > 0
        ? mergeFields(current, input, withSelectorPaths(fields), ASSIGNMENT_FIELDS, ASSIGNMENT_DEFAULTS)
        : input,
    );
    const assignment: Assignment = {
      ...spec,
      // output only: set by rollback, kept by updates
      pinnedRevision: current.pinnedRevision,
      createdAtMs: current.createdAtMs,
      updatedAtMs: Date.now(),
      matchedClusters: 0,
    };
    await this.desired.assertFits(assignment, current);
    try {
      if (!(await this.assignments.update(assignment))) throw new NotFoundError('assignment', id);
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NotFoundError('repo', scoped(spec.tenant, spec.repo));
      throw err;
    }
    this.log.info({ assignment: id }, 'assignment updated');
    await this.desired.projectSelectedBy([current, assignment]);
    return (await this.withMatches([assignment]))[0];
  }

  async get(tenant: string, name: string): Promise<Assignment> {
    checkDnsLabel('tenant', tenant);
    checkDnsLabel('name', name);
    const a = await this.assignments.get(tenant, name);
    if (!a) throw new NotFoundError('assignment', scoped(tenant, name));
    return (await this.withMatches([a]))[0];
  }

  async list(tenant: string): Promise<Assignment[]> {
    if (tenant) await this.tenants.get(tenant);
    return this.withMatches(await this.assignments.list(tenant || undefined));
  }

  delete(tenant: string, name: string): Promise<void> {
    return this.writes.run(() => this.deleteNow(tenant, name));
  }

  private async deleteNow(tenant: string, name: string): Promise<void> {
    const current = await this.get(tenant, name);
    checkNoDependents(tenant, name, await this.assignments.list(tenant));
    if (!(await this.assignments.delete(tenant, name)))
      throw new NotFoundError('assignment', scoped(tenant, name));
    this.log.info({ assignment: scoped(tenant, name) }, 'assignment deleted');
    await this.desired.projectSelectedBy([current]);
  }
}
