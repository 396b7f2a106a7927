// One logger for hub, agent and CLI: JSON lines on stderr (pino), level from GITFLEET_LOG_LEVEL.
// Secrets never reach logs: credential fields are redacted wherever they appear.
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  'token',
  'credentials',
  '*.password',
  '*.token',
  '*.credentials',
  '*.*.password',
  '*.*.credentials',
];

export function createLogger(component: string, level = process.env.GITFLEET_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    { name: `gitfleet-${component}`, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    pino.destination(2),
  );
}
