import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from './activities/create-activities.js';
import { createUpkeepActivities } from './activities/upkeep-activities.js';
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
  /** This process's own task queue (see `homeQueue`). */
  home: string;
  /** Runs until `shutdown()`; then closes sources and DuckDB files. */
  run(): Promise<void>;
  shutdown(): void;
}

/**
 * The task queue only this worker process polls: a pipeline's captures and loads go there once
 * one of them ran here (the process holds the pipeline's replication stream and staged batches),
 * and to the shared queue when it is gone (see the workflow's `homed`).
 */
export function homeQueue(taskQueue: string): string {
  return `${taskQueue}@${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/**
 * A worker for every pipeline on `taskQueue`, and for the pipelines at home in this process on
 * its own queue. DuckDB allows one writing process per file, so all pipelines writing one file
 * must be served by one worker process.
 */
export async function createPipelineWorker(options: PipelineWorkerOptions): Promise<PipelineWorker> {
  const logger = options.logger ?? defaultLogger;
  const connectors = createConnectors({ logger });
  const home = homeQueue(options.taskQueue);
  const liveHomes = (): Promise<string[]> => pollingHomes(options.connection, options.namespace, options.taskQueue);
  const created = createActivities({ connectors, logger, home, taskQueue: options.taskQueue, liveHomes });
  const activities = {
    ...created,
    ...(options.metrics === undefined ? {} : observeActivities(created, options.metrics)),
    ...createUpkeepActivities({ logger }),
  };
  // Activities get 20 s to finish after shutdown, then are cancelled; a worker whose activities
  // still do not return is stopped by force 20 s later rather than hang the process.
  const shutdown = { shutdownGraceTime: '20s', shutdownForceTime: '40s' } as const;
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    // Other processes find this one by its identity among the shared queue's pollers (see `pollingHomes`).
    identity: home,
    ...shutdown,
  });
  const homeWorker = await Worker.create({ connection: options.connection, namespace: options.namespace, taskQueue: home, activities, identity: home, ...shutdown });
  const workers = [worker, homeWorker];
  const stop = (): void => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    worker,
    home,
    async run() {
      try {
        // One stopping (shutdown, or a fatal error) stops the other.
        const ran = await Promise.allSettled(workers.map((w) => w.run().finally(stop)));
        const failed = ran.find((r) => r.status === 'rejected');
        if (failed !== undefined) throw failed.reason;
      } finally {
        await connectors.close();
      }
    },
    shutdown: stop,
  };
}

/** A poller seen longer ago than this is gone: a live one polls again at least every minute or so. */
const POLLER_SEEN_MS = 90_000;

/**
 * The own queues of the worker processes that poll `taskQueue` for activities now: each one's
 * identity is its queue (see `createPipelineWorker`). Processes of older versions are not listed.
 */
export async function pollingHomes(connection: NativeConnection, namespace: string, taskQueue: string): Promise<string[]> {
  const res = await connection.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue, kind: 1 }, // TASK_QUEUE_KIND_NORMAL
    taskQueueType: 2, // TASK_QUEUE_TYPE_ACTIVITY
  });
  const now = Date.now();
  const homes = (res.pollers ?? [])
    .filter((p) => p.identity?.startsWith(`${taskQueue}@`) === true && now - secondsOf(p.lastAccessTime?.seconds) * 1000 < POLLER_SEEN_MS)
    .map((p) => p.identity!);
  return [...new Set(homes)].sort();
}

function secondsOf(value: number | { toNumber(): number } | null | undefined): number {
  return value == null ? 0 : typeof value === 'number' ? value : value.toNumber();
}

export { NativeConnection };
