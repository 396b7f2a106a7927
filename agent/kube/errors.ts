// API errors as people read them: the API server's Status message ("configmaps "cfg" is
// forbidden: User ... cannot patch ..."), not client-node's dump of code, body and headers.
import { ApiException } from '@kubernetes/client-node';
import { isPlainObject } from './objects.js';

export function statusCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  if (isPlainObject(err) && typeof err.code === 'number') return err.code;
  return undefined;
}

export function isNotFound(err: unknown): boolean {
  return statusCode(err) === 404;
}

export function isForbidden(err: unknown): boolean {
  return statusCode(err) === 403;
}

export function isConflict(err: unknown): boolean {
  return statusCode(err) === 409;
}

export function kubeErrorMessage(err: unknown): string {
  if (err instanceof ApiException) {
    let body: unknown = err.body;
    if (typeof body === 'string') {
      const text = body;
      try {
        body = JSON.parse(text);
      } catch {
        return text ? `${text.trim()} (HTTP ${err.code})` : `HTTP ${err.code}`;
      }
    }
    if (isPlainObject(body) && typeof body.message === 'string' && body.message) return body.message;
    return `HTTP ${err.code}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** One field another field manager owns, from a server-side apply's 409 ("conflict with ..."). */
export interface FieldConflict {
  /** The field as the API server names it (".spec.replicas"). */
  field: string;
  /** The API server's words, naming the manager ('conflict with "kubectl-edit" using v1'). */
  message: string;
}

function statusBody(err: unknown): Record<string, unknown> | undefined {
  if (!(err instanceof ApiException)) return undefined;
  let body: unknown = err.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  return isPlainObject(body) ? body : undefined;
}

function causesOf(err: unknown): Array<{ field?: string; message?: string; reason?: string }> {
  const details = statusBody(err)?.details;
  if (!isPlainObject(details) || !Array.isArray(details.causes)) return [];
  return details.causes.filter(isPlainObject) as Array<{ field?: string; message?: string; reason?: string }>;
}

/** The conflicting fields of a server-side apply refused with 409 (none for other errors). */
export function conflictsOf(err: unknown): FieldConflict[] {
  if (!isConflict(err)) return [];
  return causesOf(err)
    .filter((c) => c.reason === 'FieldManagerConflict' || (c.message ?? '').startsWith('conflict with'))
    .map((c) => ({ field: c.field ?? '', message: c.message ?? '' }));
}

// how the API server words a change it never allows: "field is immutable" (a Job's template),
// "may not change once set" (a Service's clusterIPs), "updates to statefulset spec for fields
// other than ... are forbidden"
const IMMUTABLE = /immutable|may not change once set|updates to .* are forbidden/i;

/**
 * The immutable fields an update tried to change ("spec.clusterIPs[0]"), from a 422 Invalid
 * whose causes say so; empty for other errors.
 */
export function immutableFieldsOf(err: unknown): string[] {
  if (statusCode(err) !== 422) return [];
  const fields = causesOf(err)
    .filter((c) => IMMUTABLE.test(c.message ?? ''))
    .map((c) => c.field ?? '');
  if (fields.length > 0) return fields;
  const message = statusBody(err)?.message;
  return typeof message === 'string' && IMMUTABLE.test(message) ? [''] : [];
}
