import path from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import type { DucktailConfig } from '../config/load-config.js';
import type { Logger, RecentProblems } from '../logger.js';
import { describeDestination } from '../model/pipeline-spec.js';
import type { PipelineMetrics } from '../metrics/metrics.js';
import { startDevServer, type DevServer } from '../temporal/dev-server.js';
import { createPipelineWorker } from '../worker.js';
import { connectClient, namespaceOf, type GlobalOptions } from './context.js';
import { preflightAll } from './preflight.js';
import { guardProcess } from './process-guard.js';
import { watchProgress } from './progress.js';
import { startPipeline } from './start.js';

export interface DevOptions {
  uiPort: number;
  port: number;
  /** Exit once every pipeline has loaded what the source had at start (used by scripts and tests). */
  catchUp: boolean;
  /** Where the worker records its metrics, and the URL they are served at (none when off). */
  metrics?: PipelineMetrics | undefined;
  metricsUrl?: string | undefined;
  /** On a terminal: the file log lines go to, and the newest warnings and errors to show under the view. */
  logFile?: string | undefined;
  recent?: RecentProblems | undefined;
}

/** `ducktail dev` serves metrics here unless told otherwise (the port OpenTelemetry's Prometheus exporter uses). */
export const DEV_METRICS_PORT = 9464;

/**
 * Everything in one process: an embedded Temporal dev server (unless TEMPORAL_ADDRESS or the
 * config names one), a worker, every pipeline of the config started, and live progress.
 */
export async function runDev(opts: GlobalOptions, config: DucktailConfig, dev: DevOptions, logger: Logger): Promise<number> {
  for (const [name, report] of await preflightAll(config.pipelines, logger)) {
    for (const w of report.warnings) process.stderr.write(`warning (${name}): ${w}\n`);
  }
  const external = opts.address ?? process.env.TEMPORAL_ADDRESS ?? config.temporal.address;
  let server: DevServer | undefined;
  if (external === undefined) {
    process.stderr.write('Starting the embedded Temporal dev server...\n');
    server = await startDevServer({
      dbFile: path.join(path.dirname(config.file), '.ducktail', 'temporal.db'),
      port: dev.port,
      uiPort: dev.uiPort,
      namespace: namespaceOf(opts, config),
      searchAttributes: true,
    });
  }
  const address = server?.address ?? external ?? '127.0.0.1:7233';
  const clientOpts = { ...opts, address };
  const client = await connectClient(clientOpts, config);
  const connection = await NativeConnection.connect({ address });
  const worker = await createPipelineWorker({
    connection,
    namespace: namespaceOf(opts, config),
    taskQueue: config.temporal.taskQueue,
    logger,
    ...(dev.metrics === undefined ? {} : { metrics: dev.metrics }),
  });
  const running = worker.run();
  for (const spec of config.pipelines) {
    const outcome = await startPipeline(client, config.temporal.taskQueue, spec, { catchUp: dev.catchUp });
    process.stderr.write(`${spec.name}: ${outcome === 'started' ? 'started' : 'already running, attached'} (workflow ducktail-${spec.name})\n`);
  }
  if (server?.uiUrl != null) process.stderr.write(`Temporal UI: ${server.uiUrl}\n`);
  if (dev.metricsUrl !== undefined) process.stderr.write(`Metrics: ${dev.metricsUrl}\n`);
  process.stderr.write(`Replicating into ${[...new Set(config.pipelines.map((p) => describeDestination(p.destination)))].join(', ')}. Ctrl-C stops the worker; the pipelines resume where they were on the next run.\n`);

  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let crashed = false;
  const unguard = guardProcess(logger, () => {
    crashed = true;
    onSignal();
  });
  let exitCode = 0;
  try {
    exitCode = await watchProgress(client, config.pipelines, {
      signal: stop.signal,
      untilDone: dev.catchUp,
      ...(dev.logFile === undefined ? {} : { footer: () => devFooter(dev.logFile ?? '', dev.recent?.lines ?? []) }),
    });
  } finally {
    unguard();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    worker.shutdown();
    await running;
    await connection.close();
    await client.connection.close();
    await server?.stop();
  }
  return crashed ? 1 : exitCode;
}

/** Under the live view: where the log is, and the newest warnings and errors. */
export function devFooter(logFile: string, problems: string[]): string {
  const shown = path.relative(process.cwd(), logFile) || logFile;
  return [``, `log: ${shown}${problems.length > 0 ? ' — newest problems:' : ''}`, ...problems.map((p) => `  ${p}`)].join('\n');
}
