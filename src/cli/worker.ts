import { NativeConnection } from '@temporalio/worker';
import type { DucktailConfig } from '../config/load-config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PipelineMetrics } from '../metrics/metrics.js';
import { createPipelineWorker } from '../worker.js';
import { guardProcess } from './process-guard.js';
import { namespaceOf, temporalAddress, type GlobalOptions } from './context.js';

/** Runs a worker until SIGINT/SIGTERM, then finishes the current batches and closes. */
export async function runWorker(opts: GlobalOptions, config: DucktailConfig, logger: Logger, metrics?: PipelineMetrics): Promise<void> {
  const address = temporalAddress(opts, config);
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ address });
  } catch (err) {
    throw new ConfigError(`cannot reach the Temporal server at ${address} (${(err as Error).message})`, 'start it, or set TEMPORAL_ADDRESS');
  }
  const worker = await createPipelineWorker({
    connection,
    namespace: namespaceOf(opts, config),
    taskQueue: config.temporal.taskQueue,
    logger,
    ...(metrics === undefined ? {} : { metrics }),
  });
  const stop = (): void => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const unguard = guardProcess(logger, stop);
  logger.info({ address, taskQueue: config.temporal.taskQueue }, 'worker running');
  try {
    await worker.run();
  } finally {
    unguard();
    await connection.close();
  }
}
