// Receivers: create (with a given or generated secret, returned once), read, delete. The secret
// is never returned after create and never logged.
import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Receiver } from '../../proto/index.js';
import type { Logger } from '../../lib/log.js';
import { AlreadyExistsError, NotFoundError, ValidationError, scoped } from '../common/errors.js';
import { checkDnsLabel } from '../common/names.js';
import { HUB_LOGGER } from '../config/config.module.js';
import { ReposService } from '../repos/repos.service.js';
import { isForeignKeyViolation, isUniqueViolation } from '../store/database.js';
import { TenantsService } from '../tenants/tenants.service.js';
import { checkReceiverSecret, validateReceiver } from './receiver.validation.js';
import { ReceiversRepository } from './receivers.repository.js';

/** A new path id: 160 random bits, as hex. */
export function newHookId(): string {
  return randomBytes(20).toString('hex');
}

/** A generated secret: 256 random bits, base64url (43 characters). */
export function newReceiverSecret(): string {
  return randomBytes(32).toString('base64url');
}

@Injectable()
export class ReceiversService {
  private readonly log: Logger;

  constructor(
    @Inject(ReceiversRepository) private readonly receivers: ReceiversRepository,
    @Inject(TenantsService) private readonly tenants: TenantsService,
    @Inject(ReposService) private readonly repos: ReposService,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'webhooks' });
  }

  /** Creates a receiver; `generated` is the secret the hub made when none was given. */
  async create(
    input: Partial<Receiver> | null | undefined,
    givenSecret: string,
  ): Promise<{ receiver: Receiver; generated: string }> {
    const spec = validateReceiver(input);
    const secret = givenSecret === '' ? newReceiverSecret() : checkReceiverSecret(givenSecret);
    await this.tenants.get(spec.tenant);
    const id = scoped(spec.tenant, spec.name);
    const owned = new Set((await this.repos.list(spec.tenant)).map((r) => r.name));
    spec.repos.forEach((r, i) => {
      if (!owned.has(r))
        throw new ValidationError(
          `receiver.repos[${i}]`,
          `repo ${JSON.stringify(scoped(spec.tenant, r))} does not exist: create it first`,
        );
    });
    if (await this.receivers.get(spec.tenant, spec.name)) throw new AlreadyExistsError('receiver', id);
    const receiver: Receiver = {
      ...spec,
      path: '',
      createdAtMs: Date.now(),
      lastDeliveryAtMs: 0,
      lastDelivery: '',
    };
    try {
      await this.receivers.insert(receiver, newHookId(), secret);
    } catch (err) {
      if (isUniqueViolation(err)) throw new AlreadyExistsError('receiver', id);
      if (isForeignKeyViolation(err)) throw new NotFoundError('tenant', spec.tenant);
      throw err;
    }
    this.log.info(
      { receiver: id, type: spec.type, repos: spec.repos, secret: givenSecret ? 'given' : 'generated' },
      'receiver created',
    );
    return { receiver: await this.get(spec.tenant, spec.name), generated: givenSecret ? '' : secret };
  }

  async get(tenant: string, name: string): Promise<Receiver> {
    checkDnsLabel('tenant', tenant);
    checkDnsLabel('name', name);
    const r = await this.receivers.get(tenant, name);
    if (!r) throw new NotFoundError('receiver', scoped(tenant, name));
    return r;
  }

  async list(tenant: string): Promise<Receiver[]> {
    if (tenant) await this.tenants.get(tenant);
    return this.receivers.list(tenant || undefined);
  }

  async delete(tenant: string, name: string): Promise<void> {
    await this.get(tenant, name);
    if (!(await this.receivers.delete(tenant, name)))
      throw new NotFoundError('receiver', scoped(tenant, name));
    this.log.info({ receiver: scoped(tenant, name) }, 'receiver deleted');
  }
}
