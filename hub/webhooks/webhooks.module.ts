import { Module } from '@nestjs/common';
import { ReposModule } from '../repos/repos.module.js';
import { TenantsModule } from '../tenants/tenants.module.js';
import { ReceiversController } from './receivers.controller.js';
import { ReceiversRepository } from './receivers.repository.js';
import { ReceiversService } from './receivers.service.js';
import { WebhookDeliveriesService } from './webhook-deliveries.service.js';
import { WebhookServer } from './webhook-server.service.js';

@Module({
  imports: [TenantsModule, ReposModule],
  controllers: [ReceiversController],
  providers: [ReceiversRepository, ReceiversService, WebhookDeliveriesService, WebhookServer],
  exports: [WebhookServer],
})
export class WebhooksModule {}
