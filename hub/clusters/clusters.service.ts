import { Inject, Injectable } from '@nestjs/common';
import type { Cluster } from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import type { LabelSelectorRequirement } from '../../proto/index.js';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../common/errors.js';
import { mergeFields } from '../common/field-mask.js';
import { checkDnsLabel } from '../common/names.js';
import { checkSplitSelector } from '../common/targeting.js';
import { HUB_CONFIG, HUB_LOGGER } from '../config/config.module.js';
import type { ResolvedHubConfig } from '../config/hub-config.js';
import { groupSelects } from '../desired/selector.js';
import { matchesLabelSelector } from '../../proto/contract/label-selector.js';
import { DesiredService } from '../desired/desired.service.js';
import { isUniqueViolation } from '../store/database.js';
import { withLiveness } from './cluster-liveness.js';
import { CLUSTER_DEFAULTS, CLUSTER_FIELDS, validateCluster } from './cluster.validation.js';
import { ClustersRepository } from './clusters.repository.js';
import { GroupsRepository } from '../groups/groups.repository.js';
import { JoinService } from './join.service.js';

@Injectable()
export class ClustersService {
  private readonly log: Logger;

  constructor(
    @Inject(ClustersRepository) private readonly clusters: ClustersRepository,
    @Inject(DesiredService) private readonly desired: DesiredService,
    @Inject(JoinService) private readonly join: JoinService,
    @Inject(GroupsRepository) private readonly groups: GroupsRepository,
    @Inject(HUB_LOGGER) log: Logger,
    @Inject(HUB_CONFIG) private readonly config: Pick<ResolvedHubConfig, 'clusterOfflineAfterSeconds'>,
  ) {
    this.log = log.child({ module: 'clusters' });
  }

  async create(input: Partial<Cluster> | null | undefined): Promise<Cluster> {
    const spec = validateCluster(input);
    if (await this.clusters.get(spec.name)) throw new AlreadyExistsError('cluster', spec.name);
    try {
      await this.clusters.insert({
        ...spec,
        agentVersion: '',
        lastHeartbeatMs: 0,
        state: '',
        desiredGeneration: 0,
        observedGeneration: 0,
        createdAtMs: Date.now(),
        agentPublicKey: '',
        joinedAtMs: 0,
        desiredSetError: '',
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AlreadyExistsError('cluster', spec.name);
      throw err;
    }
    this.log.info({ cluster: spec.name, labels: spec.labels }, 'cluster registered');
    // publishes its first desired set (possibly empty): the agent has something to read at once
    await this.desired.project([spec.name]);
    return this.get(spec.name);
  }

  async get(name: string): Promise<Cluster> {
    checkDnsLabel('name', name);
    const cluster = await this.clusters.get(name);
    if (!cluster) throw new NotFoundError('cluster', name);
    return this.live(cluster);
  }

  /** The cluster with its liveness (Online, Offline, Unknown) as of now. */
  private live(c: Cluster): Cluster {
    return withLiveness(c, Date.now(), this.config.clusterOfflineAfterSeconds * 1000);
  }

  /** The clusters a label selector (match labels plus expressions) matches, in `group` when given. */
  async list(filter: {
    selector?: Record<string, string>;
    matchExpressions?: readonly LabelSelectorRequirement[];
    group?: string;
  }): Promise<Cluster[]> {
    const wanted = checkSplitSelector(
      'selector',
      'match_expressions',
      filter.selector,
      filter.matchExpressions,
    );
    let inGroup: (c: Cluster) => boolean = () => true;
    if (filter.group) {
      const group = await this.groups.get(checkDnsLabel('group', filter.group));
      if (!group) throw new NotFoundError('group', filter.group);
      inGroup = (c) => groupSelects(group, c);
    }
    return (await this.clusters.list())
      .filter((c) => matchesLabelSelector(c.labels, wanted) && inGroup(c))
      .map((c) => this.live(c));
  }

  /**
   * Changes the fields named in `fields` ("labels", "vars", "maintenance_windows"); an empty mask
   * changes the labels only (what UpdateCluster did before masks). The cluster's desired set
   * follows at once: the selectors and groups that now match, its vars and windows.
   */
  async update(input: Partial<Cluster> | null | undefined, fields: readonly string[] = []): Promise<Cluster> {
    if (!input) throw new ValidationError('cluster', 'required');
    const name = checkDnsLabel('cluster.name', input.name ?? '');
    const current = await this.clusters.get(name);
    if (!current) throw new NotFoundError('cluster', name);
    const paths = fields.length > 0 ? fields : ['labels'];
    const spec = validateCluster(mergeFields(current, input, paths, CLUSTER_FIELDS, CLUSTER_DEFAULTS));
    // new variables are refused when they would make the set too large for the bus; a relabel is
    // not (it is the operator's, and assignments follow it): that set is held back and status says so
    if (paths.includes('vars')) await this.desired.assertClusterFits(spec, current);
    if (!(await this.clusters.updateSpec(spec))) throw new NotFoundError('cluster', name);
    // variable values may be secrets of a kind: log their names only
    this.log.info(
      {
        cluster: name,
        fields: paths,
        labels: spec.labels,
        vars: Object.keys(spec.vars),
        windows: spec.maintenanceWindows,
      },
      'cluster updated',
    );
    await this.desired.project([name]);
    return this.get(name);
  }

  async delete(name: string): Promise<void> {
    // its agent is cut off the bus first, and its join tokens void: a cluster created again under
    // this name must join anew
    await this.join.revoke(name);
    if (!(await this.clusters.delete(name))) throw new NotFoundError('cluster', name);
    this.log.info({ cluster: name }, 'cluster deleted');
    // a projection of a cluster that no longer exists deletes its key
    await this.desired.project([name]);
  }
}
