import { Inject, Injectable } from '@nestjs/common';
import type { Group } from '../../proto/index.js';
import { Semaphore } from '../../lib/limit.js';
import type { Logger } from '../../lib/log.js';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  NotFoundError,
  ValidationError,
} from '../common/errors.js';
import { mergeFields } from '../common/field-mask.js';
import { checkDnsLabel } from '../common/names.js';
import { HUB_LOGGER } from '../config/config.module.js';
import { DesiredService } from '../desired/desired.service.js';
import { groupSelects, type ClusterIdentity } from '../desired/selector.js';
import { isUniqueViolation } from '../store/database.js';
import { GROUP_DEFAULTS, GROUP_FIELDS, validateGroup } from './group.validation.js';
import { GroupsRepository } from './groups.repository.js';

@Injectable()
export class GroupsService {
  private readonly log: Logger;
  /** One write at a time: a change re-projects the members before and after it. */
  private readonly writes = new Semaphore(1);

  constructor(
    @Inject(GroupsRepository) private readonly groups: GroupsRepository,
    @Inject(DesiredService) private readonly desired: DesiredService,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'groups' });
  }

  private members(g: Group, clusters: readonly ClusterIdentity[]): string[] {
    return clusters.filter((c) => groupSelects(g, c)).map((c) => c.name);
  }

  private async withMatches(g: Group): Promise<Group> {
    return { ...g, matchedClusters: this.members(g, await this.groups.clusters()).length };
  }

  private async checkClustersExist(g: Group): Promise<void> {
    if (g.clusters.length === 0) return;
    const known = new Set((await this.groups.clusters()).map((c) => c.name));
    const missing = g.clusters.filter((c) => !known.has(c));
    if (missing.length > 0) {
      throw new NotFoundError(missing.length === 1 ? 'cluster' : 'clusters', missing.join(', '));
    }
  }

  /** Re-projects every cluster in `before` or `after` (the group's members before and after a change). */
  private async reproject(before: Group | undefined, after: Group | undefined): Promise<void> {
    const clusters = await this.groups.clusters();
    const names = new Set([
      ...(before ? this.members(before, clusters) : []),
      ...(after ? this.members(after, clusters) : []),
    ]);
    if (names.size > 0) await this.desired.project([...names]);
  }

  create(input: Partial<Group> | null | undefined): Promise<Group> {
    return this.writes.run(async () => {
      const spec = validateGroup(input);
      if (await this.groups.get(spec.name)) throw new AlreadyExistsError('group', spec.name);
      const now = Date.now();
      const group: Group = { ...spec, createdAtMs: now, updatedAtMs: now, matchedClusters: 0 };
      await this.checkClustersExist(group);
      try {
        await this.groups.insert(group);
      } catch (err) {
        if (isUniqueViolation(err)) throw new AlreadyExistsError('group', spec.name);
        throw err;
      }
      this.log.info({ group: spec.name, clusters: spec.clusters.length }, 'group created');
      await this.reproject(undefined, group);
      return this.withMatches(group);
    });
  }

  async get(name: string): Promise<{ group: Group; members: string[] }> {
    checkDnsLabel('name', name);
    const group = await this.groups.get(name);
    if (!group) throw new NotFoundError('group', name);
    const members = this.members(group, await this.groups.clusters());
    return { group: { ...group, matchedClusters: members.length }, members };
  }

  async list(): Promise<Group[]> {
    const clusters = await this.groups.clusters();
    return (await this.groups.list()).map((g) => ({
      ...g,
      matchedClusters: this.members(g, clusters).length,
    }));
  }

  /** Changes the fields named in `fields` ("selector", "clusters", "vars"), or the whole spec. */
  update(input: Partial<Group> | null | undefined, fields: readonly string[] = []): Promise<Group> {
    return this.writes.run(async () => {
      if (!input) throw new ValidationError('group', 'required');
      const name = checkDnsLabel('group.name', input.name ?? '');
      const current = await this.groups.get(name);
      if (!current) throw new NotFoundError('group', name);
      const spec = validateGroup(
        fields.length > 0 ? mergeFields(current, input, fields, GROUP_FIELDS, GROUP_DEFAULTS) : input,
      );
      const group: Group = {
        ...spec,
        createdAtMs: current.createdAtMs,
        updatedAtMs: Date.now(),
        matchedClusters: 0,
      };
      await this.checkClustersExist(group);
      if (!(await this.groups.update(group))) throw new NotFoundError('group', name);
      this.log.info({ group: name }, 'group updated');
      await this.reproject(current, group);
      return this.withMatches(group);
    });
  }

  /** Refused while an assignment names the group: it would silently lose clusters. */
  delete(name: string): Promise<void> {
    return this.writes.run(async () => {
      checkDnsLabel('name', name);
      const current = await this.groups.get(name);
      if (!current) throw new NotFoundError('group', name);
      const users = await this.groups.assignmentsUsing(name);
      if (users.length > 0) {
        throw new FailedPreconditionError(
          `group ${JSON.stringify(name)} is used by assignment${users.length === 1 ? '' : 's'} ${users.join(', ')}: ` +
            'remove it from them first (gitfleet assignment update ... --group ...)',
        );
      }
      if (!(await this.groups.delete(name))) throw new NotFoundError('group', name);
      this.log.info({ group: name }, 'group deleted');
      await this.reproject(current, undefined);
    });
  }
}
