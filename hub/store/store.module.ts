import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '../../lib/log.js';
import { HUB_CONFIG, HUB_LOGGER } from '../config/config.module.js';
import type { ResolvedHubConfig } from '../config/hub-config.js';
import { openDatabase, type HubDb } from './database.js';

/** Injection token of the Kysely<HubDatabase> instance. */
export const HUB_DB = Symbol('HUB_DB');

@Global()
@Module({
  providers: [
    {
      provide: HUB_DB,
      inject: [HUB_CONFIG, HUB_LOGGER],
      useFactory: async (config: ResolvedHubConfig, log: Logger): Promise<HubDb> => {
        const db = await openDatabase(config.db);
        log.info({ db: config.db.kind === 'sqlite' ? config.db.path : 'postgres' }, 'store ready');
        return db;
      },
    },
  ],
  exports: [HUB_DB],
})
export class StoreModule implements OnApplicationShutdown {
  constructor(@Inject(HUB_DB) private readonly db: HubDb) {}

  async onApplicationShutdown(): Promise<void> {
    await this.db.destroy();
  }
}
