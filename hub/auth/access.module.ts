import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AccessInterceptor } from './access.interceptor.js';
import { AccessRepository } from './access.repository.js';
import { AccessService } from './access.service.js';
import { AuditController, TokensController } from './tokens.controller.js';

/** Tokens, the audit log, and the interceptor every gRPC call passes. */
@Module({
  controllers: [TokensController, AuditController],
  providers: [AccessRepository, AccessService, { provide: APP_INTERCEPTOR, useClass: AccessInterceptor }],
})
export class AccessModule {}
