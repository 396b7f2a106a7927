import { Global, Module } from '@nestjs/common';
import { BusAuthService } from './bus-auth.service.js';
import { BusService } from './bus.service.js';

@Global()
@Module({ providers: [BusService, BusAuthService], exports: [BusService, BusAuthService] })
export class BusModule {}
