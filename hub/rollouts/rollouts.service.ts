// The API of staged rollouts: status, pause, resume, abort and undo of one assignment's rollout.
// Each action runs between two passes of the driver, changes the stored record, and runs a pass
// of that rollout at once (undo pins the previous revision everywhere before it returns).
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '../../lib/log.js';
import type { Rollout } from '../../proto/index.js';
import { FailedPreconditionError, NotFoundError, scoped } from '../common/errors.js';
import { checkDnsLabel } from '../common/names.js';
import { HUB_LOGGER } from '../config/config.module.js';
import { RolloutDriverService, shortOrNone, type RolloutContext } from './rollout-driver.service.js';
import {
  ROLLOUT_ABORTED,
  ROLLOUT_PAUSED,
  ROLLOUT_PROGRESSING,
  ROLLOUT_UNDONE,
  type RolloutRecord,
} from './rollout-plan.js';
import { RolloutsRepository } from './rollouts.repository.js';

export type RolloutAction = 'pause' | 'resume' | 'abort' | 'undo';

@Injectable()
export class RolloutsService {
  private readonly log: Logger;

  constructor(
    @Inject(RolloutDriverService) private readonly driver: RolloutDriverService,
    @Inject(RolloutsRepository) private readonly store: RolloutsRepository,
    @Inject(HUB_LOGGER) log: Logger,
  ) {
    this.log = log.child({ module: 'rollouts' });
  }

  /** The assignment's rollout context; errors name what is missing and what to do. */
  private async context(tenant: string, name: string): Promise<RolloutContext & { record: RolloutRecord }> {
    checkDnsLabel('tenant', tenant);
    checkDnsLabel('assignment', name);
    const id = scoped(tenant, name);
    const [ctx] = await this.driver.contexts({ tenant, name });
    if (!ctx) {
      if (!(await this.store.assignmentExists(tenant, name))) throw new NotFoundError('assignment', id);
      throw new FailedPreconditionError(
        `assignment ${JSON.stringify(id)} has no rollout options (every cluster gets a new revision at once): ` +
          `gitfleet assignment update ${name} --tenant ${tenant} --rollout-stage SELECTOR ...`,
      );
    }
    if (!ctx.record) {
      throw new FailedPreconditionError(
        `assignment ${JSON.stringify(id)} has no rollout yet: its repo has not resolved a revision`,
      );
    }
    return ctx as RolloutContext & { record: RolloutRecord };
  }

  get(tenant: string, name: string): Promise<Rollout> {
    return this.driver.run(async () => this.driver.view(await this.context(tenant, name))!);
  }

  act(action: RolloutAction, tenant: string, name: string): Promise<Rollout> {
    return this.driver.run(async () => {
      const ctx = await this.context(tenant, name);
      const record = { ...ctx.record, updatedAtMs: Date.now() };
      const id = scoped(tenant, name);
      const refuse = (why: string): never => {
        throw new FailedPreconditionError(
          `cannot ${action} the rollout of ${JSON.stringify(id)} to ${shortOrNone(record.revision)}: ${why}`,
        );
      };
      const running = record.state === ROLLOUT_PROGRESSING || record.state === ROLLOUT_PAUSED;
      switch (action) {
        case 'pause':
          if (record.state === ROLLOUT_PAUSED) return this.driver.view(ctx)!;
          if (!running) refuse(`it is ${record.state}`);
          record.state = ROLLOUT_PAUSED;
          record.message = 'paused by gitfleet rollout pause: no cluster starts until resumed';
          break;
        case 'resume':
          if (record.state === ROLLOUT_PROGRESSING) return this.driver.view(ctx)!;
          if (record.state !== ROLLOUT_PAUSED) refuse(`it is ${record.state}, not Paused`);
          record.state = ROLLOUT_PROGRESSING;
          record.message = '';
          break;
        case 'abort':
          if (!running) refuse(`it is ${record.state}`);
          record.state = ROLLOUT_ABORTED;
          record.message =
            'aborted by gitfleet rollout abort: clusters keep the revision they were pinned to; the next revision starts a new rollout';
          break;
        case 'undo':
          if (!record.previousRevision)
            refuse('there is no previous revision (the first revision went out at once)');
          if (record.state === ROLLOUT_UNDONE) return this.driver.view(ctx)!;
          record.state = ROLLOUT_UNDONE;
          record.message = `undone by gitfleet rollout undo: every cluster pinned to ${shortOrNone(record.previousRevision)}`;
          break;
      }
      await this.store.save(record, [], [], record.updatedAtMs);
      this.log.info(
        { assignment: id, action, revision: record.revision, state: record.state },
        'rollout action',
      );
      if (action === 'pause') this.driver.emit('rollout.paused', record, record.message);
      await this.driver.pass({ tenant, name });
      return this.driver.view((await this.driver.contexts({ tenant, name }))[0])!;
    });
  }
}
