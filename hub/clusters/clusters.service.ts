import { Inject, Injectable } from '@nestjs/common';
import type { Cluster } from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import { AlreadyExistsError, NotFoundError } from '../common/errors.js';
import { checkDnsLabel, checkLabels } from '../common/names.js';
import { HUB_CONFIG, HUB_LOGGER } from '../config/config.module.js';
import type { ResolvedHubConfig } from '../config/hub-config.js';
import { matchesSelector } from '../desired/selector.js';
import { DesiredService } from '../desired/desired.service.js';
import { isUniqueViolation } from '../store/database.js';
import { withLiveness } from './cluster-liveness.js';
import { validateCluster } from './cluster.validation.js';
import { ClustersRepository } from './clusters.repository.js';
import { JoinService } from './join.service.js';

@Injectable()
export class ClustersService {
  private readonly log: Logger;

  constructor(
    @Inject(ClustersRepository) private readonly clusters: ClustersRepository,
    @Inject(DesiredService) private readonly desired: DesiredService,
    @Inject(JoinService) private readonly join: JoinService,
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
        vars: {},
        maintenanceWindows: [],
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

  async list(selector: Record<string, string> | undefined): Promise<Cluster[]> {
    const wanted = checkLabels('selector', selector);
    return (await this.clusters.list())
      .filter((c) => matchesSelector(c.labels, wanted))
      .map((c) => this.live(c));
  }

  /** Replaces the labels; the cluster's desired set follows the selectors that now match. */
  async update(input: Partial<Cluster> | null | undefined): Promise<Cluster> {
    const spec = validateCluster(input);
    if (!(await this.clusters.updateLabels(spec.name, spec.labels)))
      throw new NotFoundError('cluster', spec.name);
    this.log.info({ cluster: spec.name, labels: spec.labels }, 'cluster updated');
    await this.desired.project([spec.name]);
    return this.get(spec.name);
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
