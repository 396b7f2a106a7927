import { Module } from '@nestjs/common';
import { DesiredModule } from '../desired/desired.module.js';
import { GroupsModule } from '../groups/groups.module.js';
import { ReposModule } from '../repos/repos.module.js';
import { TenantsModule } from '../tenants/tenants.module.js';
import { AssignmentHistoryRepository } from './assignment-history.repository.js';
import { AssignmentRollbackService } from './assignment-rollback.service.js';
import { AgentRequestsRepository } from './agent-requests.repository.js';
import { AssignmentControlService } from './assignment-control.service.js';
import { AssignmentsController } from './assignments.controller.js';
import { AssignmentsRepository } from './assignments.repository.js';
import { AssignmentsService } from './assignments.service.js';

@Module({
  imports: [TenantsModule, DesiredModule, ReposModule, GroupsModule],
  controllers: [AssignmentsController],
  providers: [
    AssignmentsRepository,
    AssignmentHistoryRepository,
    AssignmentsService,
    AssignmentRollbackService,
    AgentRequestsRepository,
    AssignmentControlService,
  ],
})
export class AssignmentsModule {}
