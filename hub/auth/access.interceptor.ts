// Every gRPC call passes here first: the bearer token is authenticated, the call authorized by
// the table in access.ts (tenant tokens get their filters pinned), a tenant's view of lists
// filtered, and every call that changes something is written to the audit log with its outcome,
// refused calls included.
import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { status as GrpcStatus, type Metadata } from '@grpc/grpc-js';
import { catchError, defer, map, mergeMap, tap, throwError, type Observable } from 'rxjs';
import type { ListTenantsResponse } from '../../proto/api.js';
import { toGrpcError } from '../common/grpc-exception.filter.js';
import {
  authorize,
  isMutation,
  isPublicMethod,
  publicActor,
  visibleError,
  visibleTenants,
} from './access.js';
import { AccessService } from './access.service.js';
import { describePrincipal, type Principal } from './token.js';

const MAX_TARGET = 160;

/** "repo team-a/apps": what an audited call was about, from the request (never credentials). */
export function auditTarget(method: string, req: Record<string, unknown>): string {
  const s = (v: unknown) => (typeof v === 'string' ? v : '');
  const obj = (k: string) =>
    req[k] && typeof req[k] === 'object' ? (req[k] as Record<string, unknown>) : undefined;
  if (method === 'Join' || method === 'CreateJoinToken')
    return `cluster ${s(req.cluster)}`.slice(0, MAX_TARGET);
  const noun =
    /(Tenant|Repo|Cluster|Assignment|Token|Receiver|Alert)$/.exec(method)?.[1]?.toLowerCase() ?? method;
  const body = obj(noun);
  let id: string;
  if (noun === 'token') id = s(req.id) || [s(req.role), s(req.tenant)].filter(Boolean).join(' ');
  else if (body) id = [s(body.tenant), s(body.name)].filter(Boolean).join('/');
  else id = [s(req.tenant), s(req.name)].filter(Boolean).join('/');
  const target = `${noun} ${id}`.trim();
  return target.length > MAX_TARGET ? `${target.slice(0, MAX_TARGET)}…` : target;
}

function outcomeOf(err: unknown): { outcome: string; message: string } {
  const g = toGrpcError(err);
  return g
    ? { outcome: GrpcStatus[g.code] ?? String(g.code), message: g.message.slice(0, 300) }
    : { outcome: 'INTERNAL', message: 'internal error' };
}

@Injectable()
export class AccessInterceptor implements NestInterceptor {
  constructor(@Inject(AccessService) private readonly access: AccessService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const method = context.getHandler().name;
    const rpc = context.switchToRpc();
    const request = (rpc.getData() ?? {}) as Record<string, unknown>;
    const metadata = rpc.getContext() as Metadata | undefined;
    const header = metadata?.get?.('authorization')?.[0];
    const audited = isMutation(method);
    const rpcName = method.charAt(0).toUpperCase() + method.slice(1);
    let principal: Principal | undefined;
    const record = (outcome: string, message = '') =>
      audited
        ? this.access.audit({
            atMs: Date.now(),
            actor: principal
              ? describePrincipal(principal)
              : isPublicMethod(method)
                ? publicActor(request)
                : 'anonymous',
            method: rpcName,
            target: auditTarget(rpcName, request),
            outcome,
            message,
          })
        : Promise.resolve();

    return defer(async () => {
      // a public method's request carries its own credential, which its service checks
      if (isPublicMethod(method)) return;
      try {
        principal = await this.access.authenticate(typeof header === 'string' ? header : undefined);
        authorize(principal, method, request);
      } catch (err) {
        const o = outcomeOf(err);
        await record(o.outcome, o.message);
        throw err;
      }
    }).pipe(
      mergeMap(() => next.handle()),
      map((res) =>
        method === 'listTenants' && principal
          ? {
              ...(res as ListTenantsResponse),
              tenants: visibleTenants(principal, (res as ListTenantsResponse).tenants),
            }
          : res,
      ),
      tap({
        next: () => void (audited ? record('OK') : undefined),
        error: (err: unknown) => {
          const o = outcomeOf(err);
          void record(o.outcome, o.message);
        },
      }),
      // the audit log (admins only) keeps the whole message; the caller sees what it may know
      catchError((err: unknown) => throwError(() => visibleError(principal, err))),
    );
  }
}
