import { Controller, Inject } from '@nestjs/common';
import { type Cluster } from '../../proto/index.js';
import {
  type CreateClusterRequest,
  type CreateJoinTokenRequest,
  type CreateJoinTokenResponse,
  type JoinRequest,
  type JoinResponse,
  type RevokeClusterRequest,
  type DeleteClusterRequest,
  type DeleteResponse,
  type GetClusterRequest,
  type ListClustersRequest,
  type ListClustersResponse,
  type UpdateClusterRequest,
} from '../../proto/api.js';
import {
  ClusterServiceControllerMethods,
  JoinServiceControllerMethods,
  type ClusterServiceController,
  type JoinServiceController,
} from '../../proto/nest.js';
import { ClustersService } from './clusters.service.js';
import { JoinService } from './join.service.js';

@Controller()
@ClusterServiceControllerMethods()
export class ClustersController implements ClusterServiceController {
  constructor(
    @Inject(ClustersService) private readonly clusters: ClustersService,
    @Inject(JoinService) private readonly join: JoinService,
  ) {}

  createCluster(request: CreateClusterRequest): Promise<Cluster> {
    return this.clusters.create(request.cluster);
  }

  getCluster(request: GetClusterRequest): Promise<Cluster> {
    return this.clusters.get(request.name);
  }

  async listClusters(request: ListClustersRequest): Promise<ListClustersResponse> {
    return { clusters: await this.clusters.list(request) };
  }

  updateCluster(request: UpdateClusterRequest): Promise<Cluster> {
    return this.clusters.update(request.cluster, request.fields ?? []);
  }

  async deleteCluster(request: DeleteClusterRequest): Promise<DeleteResponse> {
    await this.clusters.delete(request.name);
    return {};
  }

  createJoinToken(request: CreateJoinTokenRequest): Promise<CreateJoinTokenResponse> {
    return this.join.createToken(request.cluster, request.ttlSeconds);
  }

  async revokeCluster(request: RevokeClusterRequest): Promise<Cluster> {
    await this.join.revoke(request.name);
    return this.clusters.get(request.name);
  }
}

/** The agent's side of joining: public (the join token is the credential; see access.ts). */
@Controller()
@JoinServiceControllerMethods()
export class JoinController implements JoinServiceController {
  constructor(@Inject(JoinService) private readonly joining: JoinService) {}

  join(request: JoinRequest): Promise<JoinResponse> {
    return this.joining.join(request);
  }
}
