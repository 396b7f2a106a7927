import { Module } from '@nestjs/common';
import { BusOwnerService } from './bus-owner.service.js';
import { DesiredKvRepository } from './desired-kv.repository.js';
import { DesiredRepository } from './desired.repository.js';
import { DesiredService } from './desired.service.js';

@Module({
  providers: [DesiredRepository, DesiredKvRepository, BusOwnerService, DesiredService],
  exports: [DesiredService],
})
export class DesiredModule {}
