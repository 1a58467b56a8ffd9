import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from './activities/create-activities.js';
import { observeActivities } from './activities/observe-activities.js';
import { createConnectors } from './composition.js';
import { logger as defaultLogger, type Logger } from './logger.js';
import type { PipelineMetrics } from './metrics/metrics.js';
import { workflowBundle } from './temporal/workflow-bundle.js';

export interface PipelineWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  logger?: Logger;
  /** Where the activities record metrics (none when absent). */
  metrics?: PipelineMetrics;
}

export interface PipelineWorker {
  worker: Worker;
  /** Runs until `shutdown()`; then closes sources and DuckDB files. */
  run(): Promise<void>;
  shutdown(): void;
}

/**
 * A worker for every pipeline on `taskQueue`. DuckDB allows one writing process per file, so
 * all pipelines writing one file must be served by one worker process.
 */
export async function createPipelineWorker(options: PipelineWorkerOptions): Promise<PipelineWorker> {
  const logger = options.logger ?? defaultLogger;
  const connectors = createConnectors({ logger });
  const activities = createActivities({ connectors, logger });
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: await workflowBundle(),
    activities: options.metrics === undefined ? activities : observeActivities(activities, options.metrics),
    // Activities get 20 s to finish after shutdown, then are cancelled; a worker whose activities
    // still do not return is stopped by force 20 s later rather than hang the process.
    shutdownGraceTime: '20s',
    shutdownForceTime: '40s',
  });
  return {
    worker,
    async run() {
      try {
        await worker.run();
      } finally {
        await connectors.close();
      }
    },
    shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}

export { NativeConnection };
