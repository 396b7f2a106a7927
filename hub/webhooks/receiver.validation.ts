// Validation of a receiver and its secret (pure). Whether the named repos exist is the service's
// check (it needs the store).
import type { Receiver } from '../../proto/index.js';
import { ValidationError, checkDnsLabel, quote } from '../../proto/contract/validation.js';
import { isReceiverType, RECEIVER_TYPES, type ReceiverType } from './webhook-delivery.js';

/** At most this many repos per receiver. */
export const MAX_RECEIVER_REPOS = 64;
/** Secret length bounds: long enough not to be guessed, short enough for any header. */
export const MIN_SECRET_LENGTH = 16;
export const MAX_SECRET_LENGTH = 256;

export interface ReceiverSpec {
  tenant: string;
  name: string;
  type: ReceiverType;
  repos: string[];
}

export function validateReceiver(input: Partial<Receiver> | null | undefined): ReceiverSpec {
  if (!input) throw new ValidationError('receiver', 'required');
  const tenant = checkDnsLabel('receiver.tenant', input.tenant ?? '');
  const name = checkDnsLabel('receiver.name', input.name ?? '');
  const type = input.type ?? '';
  if (!isReceiverType(type))
    throw new ValidationError(
      'receiver.type',
      `${type === '' ? 'required' : `${quote(type)} is not a receiver type`}: use one of ${RECEIVER_TYPES.join(', ')}`,
    );
  const repos = input.repos ?? [];
  if (repos.length > MAX_RECEIVER_REPOS)
    throw new ValidationError('receiver.repos', `${repos.length} repos (at most ${MAX_RECEIVER_REPOS})`);
  const seen = new Set<string>();
  repos.forEach((r, i) => {
    const field = `receiver.repos[${i}]`;
    if (typeof r === 'string' && r.includes('/'))
      throw new ValidationError(
        field,
        `${quote(r)}: name a repo of the receiver's tenant (without "tenant/")`,
      );
    checkDnsLabel(field, r);
    if (seen.has(r)) throw new ValidationError(field, `${quote(r)} is listed twice`);
    seen.add(r);
  });
  return { tenant, name, type, repos: [...repos] };
}

/** A given secret: printable ASCII without spaces (it travels in a header), 16 to 256 characters. */
export function checkReceiverSecret(secret: string): string {
  if (secret.length < MIN_SECRET_LENGTH || secret.length > MAX_SECRET_LENGTH)
    throw new ValidationError(
      'secret',
      `must be ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters, got ${secret.length} (leave it empty and the hub generates one)`,
    );
  if (!/^[\x21-\x7e]+$/.test(secret))
    throw new ValidationError('secret', 'must be printable ASCII without spaces or control characters');
  return secret;
}
