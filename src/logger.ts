import { Writable } from 'node:stream';
import type { LogLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/common';
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

const REDACT = { paths: ['password', '*.password', '*.*.password', 'connectionString', '*.connectionString'], censor: '[redacted]' };

/**
 * The process logger: JSON lines on stderr, level from DUCKTAIL_LOG_LEVEL (default `info`).
 * Anything that looks like a secret is redacted, wherever it appears.
 */
export function createLogger(name = 'ducktail'): Logger {
  return pino({ name, level: process.env.DUCKTAIL_LOG_LEVEL ?? 'info', redact: REDACT }, pino.destination(2));
}

export const logger: Logger = createLogger();

/** The newest warnings and errors, one short line each, for a live view to show under its table. */
export class RecentProblems extends Writable {
  readonly lines: string[] = [];

  constructor(private readonly max = 3) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    for (const text of chunk.toString('utf8').split('\n')) {
      if (text.trim() === '') continue;
      try {
        const entry = JSON.parse(text) as { level?: number; time?: number; msg?: string; pipeline?: string; err?: { message?: string } };
        const when = new Date(entry.time ?? Date.now()).toTimeString().slice(0, 8);
        const level = (entry.level ?? 40) >= 50 ? 'ERROR' : 'WARN';
        const detail = entry.err?.message !== undefined ? `: ${entry.err.message}` : '';
        this.lines.push(`${when} ${level} ${entry.pipeline !== undefined ? `${entry.pipeline}: ` : ''}${entry.msg ?? ''}${detail}`.slice(0, 200));
      } catch {
        this.lines.push(text.slice(0, 200));
      }
      if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
    }
    done();
  }
}

export interface DevLogOptions {
  /** Write every line here (readable text) instead of the terminal; the newest problems go to `recent`. */
  file?: string;
  recent?: RecentProblems;
}

/**
 * For `ducktail dev`. With `file` (a terminal shows the live view): everything at
 * DUCKTAIL_LOG_LEVEL (default `info`) goes to the file as readable lines, and warnings and errors
 * also to `recent`, so nothing is written between the view's redraws. Without it (not a
 * terminal): readable lines on stderr, warnings and errors only unless DUCKTAIL_LOG_LEVEL says otherwise.
 */
export function createDevLogger(options: DevLogOptions = {}): Logger {
  if (options.file === undefined) {
    return pino(
      { name: 'ducktail', level: process.env.DUCKTAIL_LOG_LEVEL ?? 'warn', redact: REDACT },
      pino.transport({ target: 'pino-pretty', options: { destination: 2, ignore: 'pid,hostname,name', translateTime: 'SYS:HH:MM:ss' } }),
    );
  }
  const level = process.env.DUCKTAIL_LOG_LEVEL ?? 'info';
  const toFile = pretty({ destination: options.file, mkdir: true, colorize: false, ignore: 'pid,hostname,name', translateTime: 'SYS:yyyy-mm-dd HH:MM:ss' });
  const streams: pino.StreamEntry[] = [{ level: level as pino.Level, stream: toFile }];
  if (options.recent !== undefined) streams.push({ level: 'warn', stream: options.recent });
  return pino({ name: 'ducktail', level, redact: REDACT }, pino.multistream(streams));
}

/** The Temporal SDK's log lines, written by `logger` (so they land where Ducktail's own lines do). */
export function sdkLoggerOf(logger: Logger, minimum: LogLevel = 'WARN'): SdkLogger {
  const order: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];
  const log = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    if (order.indexOf(level) < order.indexOf(minimum)) return;
    const fields = { sdk: true, ...meta };
    if (level === 'ERROR') logger.error(fields, message);
    else if (level === 'WARN') logger.warn(fields, message);
    else if (level === 'INFO') logger.info(fields, message);
    else logger.debug(fields, message);
  };
  return {
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
}
