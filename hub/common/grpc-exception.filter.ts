// Maps every error a gRPC handler throws to a gRPC status. Domain errors carry their code;
// anything else is INTERNAL with a generic message (the details go to the log, not the client).
import { Catch, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { throwError, type Observable } from 'rxjs';
import type { Logger } from '../../lib/log.js';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
  UnavailableError,
  ValidationError,
} from './errors.js';

export interface GrpcError {
  code: GrpcStatus;
  message: string;
  details: string;
}

export function toGrpcError(err: unknown): GrpcError | undefined {
  const make = (code: GrpcStatus, message: string): GrpcError => ({ code, message, details: message });
  if (err instanceof ValidationError) return make(GrpcStatus.INVALID_ARGUMENT, err.message);
  if (err instanceof NotFoundError) return make(GrpcStatus.NOT_FOUND, err.message);
  if (err instanceof AlreadyExistsError) return make(GrpcStatus.ALREADY_EXISTS, err.message);
  if (err instanceof FailedPreconditionError) return make(GrpcStatus.FAILED_PRECONDITION, err.message);
  if (err instanceof UnavailableError) return make(GrpcStatus.UNAVAILABLE, err.message);
  if (err instanceof UnauthenticatedError) return make(GrpcStatus.UNAUTHENTICATED, err.message);
  if (err instanceof PermissionDeniedError) return make(GrpcStatus.PERMISSION_DENIED, err.message);
  if (err instanceof RpcException) {
    const e = err.getError();
    if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'number') {
      const message = 'message' in e && typeof e.message === 'string' ? e.message : err.message;
      return make(e.code, message);
    }
    return make(GrpcStatus.UNKNOWN, typeof e === 'string' ? e : err.message);
  }
  return undefined;
}

@Catch()
export class GrpcExceptionFilter implements RpcExceptionFilter<unknown> {
  constructor(private readonly log: Logger) {}

  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    const known = toGrpcError(exception);
    if (known) return throwError(() => known);
    this.log.error({ err: exception }, 'unexpected error in gRPC handler');
    const message = 'internal error (see hub log)';
    return throwError(() => ({ code: GrpcStatus.INTERNAL, message, details: message }));
  }
}
