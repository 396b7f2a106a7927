import { Controller, Inject } from '@nestjs/common';
import type { Rollout } from '../../proto/index.js';
import type { GetRolloutRequest, RolloutActionRequest } from '../../proto/api.js';
import { RolloutServiceControllerMethods, type RolloutServiceController } from '../../proto/nest.js';
import { RolloutsService } from './rollouts.service.js';

@Controller()
@RolloutServiceControllerMethods()
export class RolloutsController implements RolloutServiceController {
  constructor(@Inject(RolloutsService) private readonly rollouts: RolloutsService) {}

  getRollout(r: GetRolloutRequest): Promise<Rollout> {
    return this.rollouts.get(r.tenant ?? '', r.assignment ?? '');
  }

  pauseRollout(r: RolloutActionRequest): Promise<Rollout> {
    return this.rollouts.act('pause', r.tenant ?? '', r.assignment ?? '');
  }

  resumeRollout(r: RolloutActionRequest): Promise<Rollout> {
    return this.rollouts.act('resume', r.tenant ?? '', r.assignment ?? '');
  }

  abortRollout(r: RolloutActionRequest): Promise<Rollout> {
    return this.rollouts.act('abort', r.tenant ?? '', r.assignment ?? '');
  }

  undoRollout(r: RolloutActionRequest): Promise<Rollout> {
    return this.rollouts.act('undo', r.tenant ?? '', r.assignment ?? '');
  }
}
