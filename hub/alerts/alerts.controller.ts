import { Controller, Inject } from '@nestjs/common';
import type { Alert } from '../../proto/index.js';
import type {
  CreateAlertRequest,
  DeleteAlertRequest,
  DeleteResponse,
  GetAlertRequest,
  ListAlertsRequest,
  ListAlertsResponse,
  TestAlertRequest,
} from '../../proto/api.js';
import { AlertServiceControllerMethods, type AlertServiceController } from '../../proto/nest.js';
import { AlertsService } from './alerts.service.js';

@Controller()
@AlertServiceControllerMethods()
export class AlertsController implements AlertServiceController {
  constructor(@Inject(AlertsService) private readonly alerts: AlertsService) {}

  createAlert(request: CreateAlertRequest): Promise<Alert> {
    return this.alerts.create(request.alert, request.secret);
  }

  getAlert(request: GetAlertRequest): Promise<Alert> {
    return this.alerts.get(request.tenant, request.name);
  }

  async listAlerts(request: ListAlertsRequest): Promise<ListAlertsResponse> {
    return { alerts: await this.alerts.list(request.tenant) };
  }

  async deleteAlert(request: DeleteAlertRequest): Promise<DeleteResponse> {
    await this.alerts.delete(request.tenant, request.name);
    return {};
  }

  async testAlert(request: TestAlertRequest): Promise<DeleteResponse> {
    await this.alerts.test(request.tenant, request.name);
    return {};
  }
}
