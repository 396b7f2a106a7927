import { Module } from '@nestjs/common';
import { DesiredModule } from '../desired/desired.module.js';
import { TenantsModule } from '../tenants/tenants.module.js';
import { GitRemoteRepository } from './git-remote.repository.js';
import { ReposController } from './repos.controller.js';
import { ReposRepository } from './repos.repository.js';
import { OciRemoteRepository } from './oci-remote.repository.js';
import { GIT_REMOTE, OCI_REMOTE, RepoResolver } from './repo.resolver.js';
import { ReposService } from './repos.service.js';

@Module({
  imports: [TenantsModule, DesiredModule],
  controllers: [ReposController],
  providers: [
    ReposRepository,
    { provide: GIT_REMOTE, useClass: GitRemoteRepository },
    { provide: OCI_REMOTE, useClass: OciRemoteRepository },
    RepoResolver,
    ReposService,
  ],
  exports: [ReposService],
})
export class ReposModule {}
