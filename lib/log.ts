// One logger for hub, agent and CLI: JSON lines on stderr (pino), level from GITFLEET_LOG_LEVEL.
// Secrets never reach logs: credential fields are redacted wherever they appear, and text that may
// carry them (URLs, git's stderr) goes through scrubSecrets (lib/redact) first.
import { pino, type Logger } from 'pino';
import { REDACTED } from './redact.js';

export type { Logger };

/** The levels a logLevel setting may name (pino's, plus silent). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

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
    { name: `gitfleet-${component}`, level, redact: { paths: REDACT_PATHS, censor: REDACTED } },
    pino.destination(2),
  );
}
