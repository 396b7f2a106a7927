import { randomBytes } from 'node:crypto';
import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '../../lib/log.js';
import { HUB_CONFIG, HUB_LOGGER } from '../config/config.module.js';
import type { ResolvedHubConfig } from '../config/hub-config.js';
import { ensureSecretKeyFile } from '../config/secret-key.js';
import { openDatabase, POSTGRES_UNSUPPORTED, resealCredentials, StoreError, type HubDb } from './database.js';
import { SECRET_KEY_BYTES, SecretBox } from './secret-box.js';

/** Injection token of the Kysely<HubDatabase> instance. */
export const HUB_DB = Symbol('HUB_DB');
/** Injection token of the SecretBox that seals and opens repo credentials at rest. */
export const HUB_SECRETS = Symbol('HUB_SECRETS');

/** The key for credentials at rest, as the config says (creating the embedded default's file). */
export function loadSecretBox(config: ResolvedHubConfig, log: Logger): SecretBox {
  const source = config.secretKey;
  let key: Buffer;
  switch (source.kind) {
    case 'file':
      key = source.key;
      break;
    case 'default': {
      const made = ensureSecretKeyFile(source.path);
      key = made.key;
      if (made.created) {
        log.warn(
          { secretKeyFile: source.path },
          'created a secret key for repo credentials beside the store; back it up with the store (without it the credentials cannot be read)',
        );
      }
      break;
    }
    case 'ephemeral':
      key = randomBytes(SECRET_KEY_BYTES);
      break;
    case 'none':
      throw new StoreError(
        config.db.kind === 'postgres'
          ? POSTGRES_UNSUPPORTED
          : 'this store needs a secret key file for repo credentials: give --secret-key-file',
      );
  }
  const box = new SecretBox(key, config.oldSecretKeys);
  log.info({ secretKeyId: box.keyId, source: source.kind }, 'secret key for repo credentials loaded');
  return box;
}

@Global()
@Module({
  providers: [
    {
      provide: HUB_SECRETS,
      inject: [HUB_CONFIG, HUB_LOGGER],
      useFactory: (config: ResolvedHubConfig, log: Logger): SecretBox => loadSecretBox(config, log),
    },
    {
      provide: HUB_DB,
      inject: [HUB_CONFIG, HUB_LOGGER, HUB_SECRETS],
      useFactory: async (config: ResolvedHubConfig, log: Logger, secrets: SecretBox): Promise<HubDb> => {
        const db = await openDatabase(config.db, secrets);
        try {
          const resealed = await resealCredentials(db, secrets);
          if (resealed)
            log.info(
              { repos: resealed, secretKeyId: secrets.keyId },
              'repo credentials re-sealed with the current key',
            );
        } catch (err) {
          await db.destroy();
          throw err;
        }
        log.info({ db: config.db.kind === 'sqlite' ? config.db.path : 'postgres' }, 'store ready');
        return db;
      },
    },
  ],
  exports: [HUB_DB, HUB_SECRETS],
})
export class StoreModule implements OnApplicationShutdown {
  constructor(@Inject(HUB_DB) private readonly db: HubDb) {}

  async onApplicationShutdown(): Promise<void> {
    await this.db.destroy();
  }
}
