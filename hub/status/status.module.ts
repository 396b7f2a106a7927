import { Module } from '@nestjs/common';
import { AssignmentHistoryRepository } from '../assignments/assignment-history.repository.js';
import { DesiredModule } from '../desired/desired.module.js';
import { StatusIngestService } from './status-ingest.service.js';
import { StatusStreamRepository } from './status-stream.repository.js';
import { StatusController } from './status.controller.js';
import { StatusRepository } from './status.repository.js';
import { StatusService } from './status.service.js';

@Module({
  imports: [DesiredModule],
  controllers: [StatusController],
  providers: [
    StatusRepository,
    StatusStreamRepository,
    StatusIngestService,
    StatusService,
    AssignmentHistoryRepository,
  ],
  exports: [StatusIngestService],
})
export class StatusModule {}
