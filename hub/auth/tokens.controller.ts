import { Controller, Inject } from '@nestjs/common';
import type {
  CreateTokenRequest,
  CreateTokenResponse,
  DeleteResponse,
  ListAuditRequest,
  ListAuditResponse,
  ListTokensResponse,
  RevokeTokenRequest,
} from '../../proto/api.js';
import {
  AuditServiceControllerMethods,
  TokenServiceControllerMethods,
  type AuditServiceController,
  type TokenServiceController,
} from '../../proto/nest.js';
import { AccessService } from './access.service.js';

@Controller()
@TokenServiceControllerMethods()
export class TokensController implements TokenServiceController {
  constructor(@Inject(AccessService) private readonly access: AccessService) {}

  createToken(request: CreateTokenRequest): Promise<CreateTokenResponse> {
    return this.access.createToken(request);
  }

  async listTokens(): Promise<ListTokensResponse> {
    return { tokens: await this.access.listTokens() };
  }

  async revokeToken(request: RevokeTokenRequest): Promise<DeleteResponse> {
    await this.access.revokeToken(request.id);
    return {};
  }
}

@Controller()
@AuditServiceControllerMethods()
export class AuditController implements AuditServiceController {
  constructor(@Inject(AccessService) private readonly access: AccessService) {}

  async listAudit(request: ListAuditRequest): Promise<ListAuditResponse> {
    return { entries: await this.access.listAudit(request.limit) };
  }
}
