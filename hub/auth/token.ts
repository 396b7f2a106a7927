// API tokens (pure): "gft_<id>_<secret>". The id is public (listed, logged, audited); only a
// SHA-256 of the secret is stored, compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { tokenId, type TokenPrefix } from '../../proto/contract/tokens.js';

export const ROLES = ['admin', 'tenant', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Who is calling: the token's identity, as the guard attaches it to a call. */
export interface Principal {
  tokenId: string;
  role: Role;
  /** The tenant of a "tenant" token; empty otherwise. */
  tenant: string;
}

export interface NewToken {
  id: string;
  /** The whole bearer token, shown once. */
  secret: string;
  hash: string;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function newToken(prefix: TokenPrefix = 'gft'): NewToken {
  const id = randomBytes(8).toString('hex');
  const secret = `${prefix}_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, secret, hash: hashSecret(secret) };
}

// the format is the contract's (the agent reads join tokens too)
export { tokenId };

/** Constant-time comparison of a presented token with a stored hash. */
export function matches(secret: string, hash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** "token 0123… (tenant team-a)": how a principal is named in the audit log and messages. */
export function describePrincipal(p: Principal): string {
  return `token ${p.tokenId} (${p.role}${p.tenant ? ` ${p.tenant}` : ''})`;
}
