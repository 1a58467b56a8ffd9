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
