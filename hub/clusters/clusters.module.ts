import { Module } from '@nestjs/common';
import { DesiredModule } from '../desired/desired.module.js';
import { GroupsModule } from '../groups/groups.module.js';
import { ClustersController, JoinController } from './clusters.controller.js';
import { ClustersRepository } from './clusters.repository.js';
import { ClustersService } from './clusters.service.js';
import { JoinTokensRepository } from './join-tokens.repository.js';
import { JoinService } from './join.service.js';

@Module({
  imports: [DesiredModule, GroupsModule],
  controllers: [ClustersController, JoinController],
  providers: [ClustersRepository, ClustersService, JoinTokensRepository, JoinService],
  exports: [ClustersService],
})
export class ClustersModule {}
