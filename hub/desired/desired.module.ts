import { Module } from '@nestjs/common';
import { DesiredKvRepository } from './desired-kv.repository.js';
import { DesiredRepository } from './desired.repository.js';
import { DesiredService } from './desired.service.js';

@Module({
  providers: [DesiredRepository, DesiredKvRepository, DesiredService],
  exports: [DesiredService],
})
export class DesiredModule {}
