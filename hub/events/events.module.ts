import { Global, Module } from '@nestjs/common';
import { ClusterLivenessEventsService } from './cluster-liveness-events.service.js';
import { FleetEventsService } from './fleet-events.service.js';

/** Global: any module may emit fleet events (FleetEventsService) without importing this one. */
@Global()
@Module({
  providers: [FleetEventsService, ClusterLivenessEventsService],
  exports: [FleetEventsService],
})
export class EventsModule {}
