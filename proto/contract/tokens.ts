// The shape of gitfleet's tokens, which hub, agent and CLI all read: "<prefix>_<id>_<secret>",
// with a public id (16 hex digits: listed, logged, audited) and a secret (32 random bytes,
// base64url). API bearer tokens are "gft_…", agents' one-time join tokens "gfj_…".

/** Token kinds by prefix: API bearer tokens, and agents' one-time join tokens. */
export type TokenPrefix = 'gft' | 'gfj';

const TOKEN: Record<TokenPrefix, RegExp> = {
  gft: /^gft_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/,
  gfj: /^gfj_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/,
};

/** The public id of a well-formed token of this kind, or undefined (never echoes the token). */
export function tokenId(secret: string, prefix: TokenPrefix = 'gft'): string | undefined {
  return typeof secret === 'string' ? TOKEN[prefix].exec(secret)?.[1] : undefined;
}
