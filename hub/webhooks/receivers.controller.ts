import { Controller, Inject } from '@nestjs/common';
import type { Receiver } from '../../proto/index.js';
import type {
  CreateReceiverRequest,
  CreateReceiverResponse,
  DeleteReceiverRequest,
  DeleteResponse,
  GetReceiverRequest,
  ListReceiversRequest,
  ListReceiversResponse,
} from '../../proto/api.js';
import { ReceiverServiceControllerMethods, type ReceiverServiceController } from '../../proto/nest.js';
import { ReceiversService } from './receivers.service.js';

@Controller()
@ReceiverServiceControllerMethods()
export class ReceiversController implements ReceiverServiceController {
  constructor(@Inject(ReceiversService) private readonly receivers: ReceiversService) {}

  async createReceiver(request: CreateReceiverRequest): Promise<CreateReceiverResponse> {
    const { receiver, generated } = await this.receivers.create(request.receiver, request.secret ?? '');
    return { receiver, secret: generated };
  }

  getReceiver(request: GetReceiverRequest): Promise<Receiver> {
    return this.receivers.get(request.tenant, request.name);
  }

  async listReceivers(request: ListReceiversRequest): Promise<ListReceiversResponse> {
    return { receivers: await this.receivers.list(request.tenant) };
  }

  async deleteReceiver(request: DeleteReceiverRequest): Promise<DeleteResponse> {
    await this.receivers.delete(request.tenant, request.name);
    return {};
  }
}
