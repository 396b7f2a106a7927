// Keeping secrets out of logs and messages: the one scrubber for text (git's stderr, URLs, error
// messages). Structured log fields are covered by the logger's REDACT_PATHS (lib/log.ts), which
// censor with the same REDACTED marker.

export const REDACTED = '[redacted]';

// "://" then the user info: everything up to the last '@' before the authority ends (as URL
// parsers read it, so an unencoded '@' in a password goes too). The scan stops at '/', so every
// attempt ends at the next "://" at the latest: linear in the text.
const URL_USER_INFO = /:\/\/[^/?#\s'"<>]*@/g;

// A PEM or OpenSSH private key block (a deploy key pasted into a message), whole: lazy up to the
// first END line, each class bounded, so linear.
const PRIVATE_KEY =
  /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----|$)/g;
// The credential of an Authorization header (git -c http.extraHeader=… echoed, a curl trace): a
// token of 8+ characters with a digit or symbol, so prose ("Basic authentication") stays.
const AUTH_HEADER = /\b(Bearer|Basic) +(?=[A-Za-z.~]*[0-9\-_+/=])[A-Za-z0-9\-._~+/]{8,}=*/g;

/**
 * Removes credentials from a text: the user info of every URL in it (`https://bot:pw@host/x` →
 * `https://host/x`), private key blocks and the credentials of "Bearer …"/"Basic …" headers, and
 * each literal secret (→ `[redacted]`, longest first so that one secret
 * inside another leaves nothing behind). Empty and undefined secrets are ignored.
 */
export function scrubSecrets(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  const out = text
    .replace(URL_USER_INFO, '://')
    .replace(PRIVATE_KEY, REDACTED)
    .replace(AUTH_HEADER, (_m, scheme: string) => `${scheme} ${REDACTED}`);
  const literal = [...new Set(secrets.filter((s): s is string => !!s))].sort((a, b) => b.length - a.length);
  if (literal.length === 0) return out;
  // one pass over the text for all secrets, instead of one split/join per secret
  return out.replace(new RegExp(literal.map(escapeRegExp).join('|'), 'g'), REDACTED);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
