// Domain errors of the hub. Services and pure validation throw these; the gRPC exception filter
// (grpc-exception.filter.ts) turns each into its status code, so no service knows about gRPC.

/** A request field is malformed ("repo.url: …"): the one class hub and agent share. */
export { ValidationError } from '../../proto/contract/validation.js';

/** An identified object does not exist ('tenant "x" not found'). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(kind: string, id: string) {
    super(`${kind} ${JSON.stringify(id)} not found`);
  }
}

/** The object to create exists already. */
export class AlreadyExistsError extends Error {
  override readonly name = 'AlreadyExistsError';
  constructor(kind: string, id: string) {
    super(`${kind} ${JSON.stringify(id)} already exists`);
  }
}

/** The request is valid but the current state forbids it (a tenant that still owns repos). */
export class FailedPreconditionError extends Error {
  override readonly name = 'FailedPreconditionError';
}

/**
 * A failed precondition whose message names another tenant (the owner of a namespace), so that an
 * operator knows whom to ask. `withoutTenant` is the same message without that name: callers who
 * may not see other tenants' names (tenant tokens) get it instead (hub/auth/access.ts).
 */
export class NamesTenantError extends FailedPreconditionError {
  constructor(
    message: string,
    readonly withoutTenant: string,
  ) {
    super(message);
  }
}

/** Something the hub depends on is not available right now (e.g. the bus); retry later. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
}

/** The call carries no valid token (missing, malformed, unknown, revoked or expired). */
export class UnauthenticatedError extends Error {
  override readonly name = 'UnauthenticatedError';
}

/** The caller's token does not allow this call. */
export class PermissionDeniedError extends Error {
  override readonly name = 'PermissionDeniedError';
}

/** "<tenant>/<name>": how repos and assignments are named in messages. */
export function scoped(tenant: string, name: string): string {
  return `${tenant}/${name}`;
}
