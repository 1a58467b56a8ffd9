import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The process logger: JSON lines on stderr, level from DUCKTAIL_LOG_LEVEL (default `info`).
 * Anything that looks like a secret is redacted, wherever it appears.
 */
export function createLogger(name = 'ducktail'): Logger {
  return pino(
    {
      name,
      level: process.env.DUCKTAIL_LOG_LEVEL ?? 'info',
      redact: { paths: ['password', '*.password', '*.*.password', 'connectionString', '*.connectionString'], censor: '[redacted]' },
    },
    pino.destination(2),
  );
}

export const logger: Logger = createLogger();

/**
 * For `ducktail dev`: readable lines, warnings and errors only unless DUCKTAIL_LOG_LEVEL says
 * otherwise, so the live progress stays legible.
 */
export function createDevLogger(): Logger {
  return pino(
    {
      name: 'ducktail',
      level: process.env.DUCKTAIL_LOG_LEVEL ?? 'warn',
      redact: { paths: ['password', '*.password', '*.*.password'], censor: '[redacted]' },
    },
    pino.transport({ target: 'pino-pretty', options: { destination: 2, ignore: 'pid,hostname,name', translateTime: 'SYS:HH:MM:ss' } }),
  );
}
