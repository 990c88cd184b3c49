import { trace } from '@opentelemetry/api';
import type { LoggerService } from '@nestjs/common';
import { loadConfig } from './config';

const LEVELS = { debug: 10, verbose: 10, info: 20, log: 20, warn: 30, error: 40, fatal: 50 } as const;
type Level = keyof typeof LEVELS;

/**
 * One JSON line per entry on stdout, carrying the active trace id so a log line leads to
 * its trace in Zipkin. Never pass secrets in `fields`.
 */
export class JsonLogger implements LoggerService {
  private readonly threshold: number;

  constructor(
    private readonly service: string,
    level = loadConfig().logLevel,
  ) {
    this.threshold = LEVELS[level];
  }

  log(message: unknown, ...rest: unknown[]) {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]) {
    this.write('fatal', message, rest);
  }

  private write(level: Level, message: unknown, rest: unknown[]) {
    if (LEVELS[level] < this.threshold) return;
    // Nest passes the context last, and a stack trace before it for errors.
    const context = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    // A setting the service cannot start with is said once, in one line (bootstrap.ts), not as Nest's stack trace.
    const stacks = [message, ...rest].map((part) => (part instanceof Error ? part.stack : part));
    if (context === 'ExceptionHandler' && stacks.some((stack) => typeof stack === 'string' && stack.startsWith('SettingError:'))) return;
    const spanContext = trace.getActiveSpan()?.spanContext();
    const entry: Record<string, unknown> = {
      time: new Date().toISOString(),
      level,
      service: this.service,
      ...(context ? { context } : {}),
      ...(spanContext ? { traceId: spanContext.traceId } : {}),
    };
    if (message instanceof Error) {
      entry.msg = message.message;
      entry.stack = message.stack;
    } else if (typeof message === 'object' && message !== null) {
      Object.assign(entry, message);
    } else {
      entry.msg = String(message);
    }
    for (const extra of rest) {
      if (typeof extra === 'string') entry.stack = extra;
      else if (extra instanceof Error) entry.stack = extra.stack;
      else if (typeof extra === 'object' && extra !== null) Object.assign(entry, extra);
    }
    process.stdout.write(`${JSON.stringify(entry)}\n`);
  }
}
