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
