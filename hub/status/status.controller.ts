import { Controller, Inject } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { type AssignmentStatus } from '../../proto/index.js';
import { type GetStatusRequest, type GetStatusResponse } from '../../proto/api.js';
import { StatusServiceControllerMethods, type StatusServiceController } from '../../proto/nest.js';
import { normalizeFilter, StatusService } from './status.service.js';

@Controller()
@StatusServiceControllerMethods()
export class StatusController implements StatusServiceController {
  constructor(@Inject(StatusService) private readonly status: StatusService) {}

  getStatus(request: GetStatusRequest): Promise<GetStatusResponse> {
    return this.status.getStatus(normalizeFilter(request));
  }

  watchStatus(request: GetStatusRequest): Observable<AssignmentStatus> {
    return this.status.watchStatus(normalizeFilter(request));
  }
}
