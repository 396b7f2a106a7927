import { Controller, Inject } from '@nestjs/common';
import { type Cluster } from '../../proto/index.js';
import {
  type CreateClusterRequest,
  type DeleteClusterRequest,
  type DeleteResponse,
  type GetClusterRequest,
  type ListClustersRequest,
  type ListClustersResponse,
  type UpdateClusterRequest,
} from '../../proto/api.js';
import { ClusterServiceControllerMethods, type ClusterServiceController } from '../../proto/nest.js';
import { ClustersService } from './clusters.service.js';

@Controller()
@ClusterServiceControllerMethods()
export class ClustersController implements ClusterServiceController {
  constructor(@Inject(ClustersService) private readonly clusters: ClustersService) {}

  createCluster(request: CreateClusterRequest): Promise<Cluster> {
    return this.clusters.create(request.cluster);
  }

  getCluster(request: GetClusterRequest): Promise<Cluster> {
    return this.clusters.get(request.name);
  }

  async listClusters(request: ListClustersRequest): Promise<ListClustersResponse> {
    return { clusters: await this.clusters.list(request.selector) };
  }

  updateCluster(request: UpdateClusterRequest): Promise<Cluster> {
    return this.clusters.update(request.cluster);
  }

  async deleteCluster(request: DeleteClusterRequest): Promise<DeleteResponse> {
    await this.clusters.delete(request.name);
    return {};
  }
}
