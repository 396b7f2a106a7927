import { Global, Module, type DynamicModule } from '@nestjs/common';
import { createLogger, type Logger } from '../../lib/log.js';
import type { ResolvedHubConfig } from './hub-config.js';

/** Injection token of the validated ResolvedHubConfig. */
export const HUB_CONFIG = Symbol('HUB_CONFIG');
/** Injection token of the hub's pino logger (createLogger('hub')). */
export const HUB_LOGGER = Symbol('HUB_LOGGER');

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: ResolvedHubConfig, logger?: Logger): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: HUB_CONFIG, useValue: config },
        { provide: HUB_LOGGER, useValue: logger ?? createLogger('hub', config.logLevel) },
      ],
      exports: [HUB_CONFIG, HUB_LOGGER],
    };
  }
}
