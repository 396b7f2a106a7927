// The typed outcomes of a reconcile step (Flux's shape): a step either succeeds or throws a
// ReconcileError carrying the condition reason and a human message. `stalled` errors need a new
// input (a new revision) to change: they are not retried with backoff, only on resync.
import { Reason } from '../proto/index.js';

export class ReconcileError extends Error {
  override readonly name = 'ReconcileError';
  constructor(
    readonly reason: Reason,
    message: string,
    readonly opts: { stalled?: boolean; cause?: unknown; notReady?: string[] } = {},
  ) {
    super(message, { cause: opts.cause });
  }

  get stalled(): boolean {
    return this.opts.stalled === true;
  }
}

/** A BuildFailed error: the revision itself is broken; retrying the same revision cannot help. */
export function buildError(message: string, cause?: unknown): ReconcileError {
  return new ReconcileError(Reason.BuildFailed, message, { stalled: true, cause });
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
