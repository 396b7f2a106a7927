import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from '../lib/log.js';
import { AlertsModule } from './alerts/alerts.module.js';
import { AssignmentsModule } from './assignments/assignments.module.js';
import { AccessModule } from './auth/access.module.js';
import { BusModule } from './bus/bus.module.js';
import { ClustersModule } from './clusters/clusters.module.js';
import { ConfigModule } from './config/config.module.js';
import type { ResolvedHubConfig } from './config/hub-config.js';
import { DesiredModule } from './desired/desired.module.js';
import { GroupsModule } from './groups/groups.module.js';
import { EventsModule } from './events/events.module.js';
import { ReposModule } from './repos/repos.module.js';
import { RolloutsModule } from './rollouts/rollouts.module.js';
import { StatusModule } from './status/status.module.js';
import { StoreModule } from './store/store.module.js';
import { TenantsModule } from './tenants/tenants.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';

@Module({})
export class HubModule {
  static forRoot(config: ResolvedHubConfig, logger?: Logger): DynamicModule {
    return {
      module: HubModule,
      imports: [
        ConfigModule.forRoot(config, logger),
        StoreModule,
        EventsModule,
        AccessModule,
        BusModule,
        DesiredModule,
        TenantsModule,
        ReposModule,
        ClustersModule,
        GroupsModule,
        AssignmentsModule,
        StatusModule,
        RolloutsModule,
        WebhooksModule,
        AlertsModule,
      ],
    };
  }
}
