import { Controller, Inject } from '@nestjs/common';
import { type Repo } from '../../proto/index.js';
import {
  type CreateRepoRequest,
  type DeleteRepoRequest,
  type DeleteResponse,
  type GetRepoRequest,
  type ListReposRequest,
  type ListReposResponse,
  type ResolveRepoRequest,
  type UpdateRepoRequest,
} from '../../proto/api.js';
import { RepoServiceControllerMethods, type RepoServiceController } from '../../proto/nest.js';
import { ReposService } from './repos.service.js';

@Controller()
@RepoServiceControllerMethods()
export class ReposController implements RepoServiceController {
  constructor(@Inject(ReposService) private readonly repos: ReposService) {}

  createRepo(request: CreateRepoRequest): Promise<Repo> {
    return this.repos.create(request.repo);
  }

  getRepo(request: GetRepoRequest): Promise<Repo> {
    return this.repos.get(request.tenant, request.name);
  }

  async listRepos(request: ListReposRequest): Promise<ListReposResponse> {
    return { repos: await this.repos.list(request.tenant) };
  }

  updateRepo(request: UpdateRepoRequest): Promise<Repo> {
    return this.repos.update(request.repo, request.fields ?? []);
  }

  async deleteRepo(request: DeleteRepoRequest): Promise<DeleteResponse> {
    await this.repos.delete(request.tenant, request.name);
    return {};
  }

  resolveRepo(request: ResolveRepoRequest): Promise<Repo> {
    return this.repos.resolve(request.tenant, request.name);
  }
}
