import type { Logger } from '../logger.js';

/**
 * Process-level guard for long-running worker processes. A rejected promise nobody awaited is
 * logged and the worker carries on: the operation that created it has already failed or been
 * abandoned, and every pipeline's truth is its checkpoint in DuckDB. An uncaught exception leaves
 * the process in an unknown state, so it is logged with its stack and the worker shuts down
 * gracefully (current activities get the shutdown grace time) and exits with code 1 — for a
 * supervisor (systemd `Restart=on-failure`, Kubernetes) to restart it; pipelines resume from
 * their checkpoints. Returns a function that removes the guard.
 */
export function guardProcess(logger: Logger, shutdown: () => void): () => void {
  const onRejection = (reason: unknown): void => {
    logger.error({ err: reason }, 'unhandled promise rejection (a bug in ducktail: please report it); the worker carries on');
  };
  const onException = (err: Error): void => {
    logger.fatal({ err }, 'unexpected error (a bug in ducktail: please report it); the worker shuts down, restart it: pipelines resume from their checkpoints');
    process.exitCode = 1;
    shutdown();
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
