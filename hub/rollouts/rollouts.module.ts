import { Module } from '@nestjs/common';
import { DesiredModule } from '../desired/desired.module.js';
import { StatusModule } from '../status/status.module.js';
import { RolloutDriverService } from './rollout-driver.service.js';
import { RolloutsController } from './rollouts.controller.js';
import { RolloutsRepository } from './rollouts.repository.js';
import { RolloutsService } from './rollouts.service.js';

@Module({
  imports: [DesiredModule, StatusModule],
  controllers: [RolloutsController],
  providers: [RolloutsRepository, RolloutDriverService, RolloutsService],
  exports: [RolloutDriverService],
})
export class RolloutsModule {}
