// Nest's own log lines go through the hub's pino logger (its chatter at debug level).
import type { LoggerService } from '@nestjs/common';
import type { Logger } from '../../lib/log.js';

export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}

  private write(level: 'debug' | 'info' | 'warn' | 'error', message: unknown, params: unknown[]): void {
    const context = typeof params.at(-1) === 'string' ? (params.at(-1) as string) : undefined;
    const err = params.find((p) => p instanceof Error);
    const text = message instanceof Error ? message.message : String(message);
    this.pino[level]({ nest: context, ...(err ? { err } : {}) }, text);
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
}
