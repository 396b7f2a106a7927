// Keeping secrets out of logs and messages: the one scrubber for text (git's stderr, URLs, error
// messages). Structured log fields are covered by the logger's REDACT_PATHS (lib/log.ts), which
// censor with the same REDACTED marker.

export const REDACTED = '[redacted]';

// "://" then the user info: everything up to the last '@' before the authority ends (as URL
// parsers read it, so an unencoded '@' in a password goes too). The scan stops at '/', so every
// attempt ends at the next "://" at the latest: linear in the text.
const URL_USER_INFO = /:\/\/[^/?#\s'"<>]*@/g;

/**
 * Removes credentials from a text: the user info of every URL in it (`https://bot:pw@host/x` →
 * `https://host/x`) and each literal secret (→ `[redacted]`, longest first so that one secret
 * inside another leaves nothing behind). Empty and undefined secrets are ignored.
 */
export function scrubSecrets(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  const out = text.replace(URL_USER_INFO, '://');
  const literal = [...new Set(secrets.filter((s): s is string => !!s))].sort((a, b) => b.length - a.length);
  if (literal.length === 0) return out;
  // one pass over the text for all secrets, instead of one split/join per secret
  return out.replace(new RegExp(literal.map(escapeRegExp).join('|'), 'g'), REDACTED);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
