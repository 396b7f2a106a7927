// API tokens (pure): "gft_<id>_<secret>". The id is public (listed, logged, audited); only a
// SHA-256 of the secret is stored, compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

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

/** Token kinds by prefix: API bearer tokens, and agents' one-time join tokens. */
export type TokenPrefix = 'gft' | 'gfj';

const TOKEN: Record<TokenPrefix, RegExp> = {
  gft: /^gft_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/,
  gfj: /^gfj_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/,
};

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

/** The id of a well-formed token, or undefined (never echoes the token). */
export function tokenId(secret: string, prefix: TokenPrefix = 'gft'): string | undefined {
  return typeof secret === 'string' ? TOKEN[prefix].exec(secret)?.[1] : undefined;
}

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
