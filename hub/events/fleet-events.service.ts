// The hub's one internal stream of fleet events. emit() is synchronous and cheap (a Subject's
// next): producers such as the status ingest never wait for a consumer, and consumers (alerts)
// do their slow work (HTTP) asynchronously on their own. A consumer catches its own errors: rxjs
// reports a throw from a subscriber as an uncaught exception, not to the producer.
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Subject } from 'rxjs';
import type { Logger } from '../../lib/log.js';
import { HUB_LOGGER } from '../config/config.module.js';
import { MAX_EVENT_MESSAGE, type FleetEvent } from './fleet-event.js';

@Injectable()
export class FleetEventsService implements OnModuleDestroy {
  readonly events$ = new Subject<FleetEvent>();
  private readonly log: Logger;

  constructor(@Inject(HUB_LOGGER) log: Logger) {
    this.log = log.child({ module: 'fleet-events' });
  }

  emit(event: FleetEvent): void {
    const e = { ...event, message: event.message.slice(0, MAX_EVENT_MESSAGE) };
    this.log.debug(
      { kind: e.kind, tenant: e.tenant, assignment: e.assignment, cluster: e.cluster },
      'fleet event',
    );
    this.events$.next(e);
  }

  onModuleDestroy(): void {
    this.events$.complete();
  }
}
