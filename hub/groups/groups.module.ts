import { Module } from '@nestjs/common';
import { DesiredModule } from '../desired/desired.module.js';
import { GroupsController } from './groups.controller.js';
import { GroupsRepository } from './groups.repository.js';
import { GroupsService } from './groups.service.js';

@Module({
  imports: [DesiredModule],
  controllers: [GroupsController],
  providers: [GroupsRepository, GroupsService],
  // clusters (list by group) and assignments (named groups must exist) read groups through it
  exports: [GroupsRepository],
})
export class GroupsModule {}
