import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, DucktailError } from '../errors.js';
import { isLake } from '../model/pipeline-spec.js';
import { createDevLogger, logger, RecentProblems, sdkLoggerOf } from '../logger.js';
import path from 'node:path';
import { connectClient, loadConfig, selectPipelines, workflowId, type GlobalOptions } from './context.js';
import { DEV_METRICS_PORT, runDev } from './dev.js';
import { setUpMetrics } from './metrics.js';
import { preflightAll } from './preflight.js';
import { reconfigurePipeline, startPipeline, waitUntilStarted, START_WAIT_MS } from './start.js';
import { formatStatus, readStatuses } from './status.js';
import { stopPipeline } from './stop.js';
import { resyncTables } from './resync.js';
import { runQuery, type QueryOptions } from './query.js';
import { schedulePipeline, scheduleId, unschedulePipeline } from './schedule.js';
import { runUpkeepNow } from '../temporal/upkeep-schedule.js';
import { describeUpkeep } from '../destinations/ducklake/ducklake-upkeep.js';
import { formatStartForm, startForm } from './spec.js';
import { teardownPipeline } from './teardown.js';
import { pauseSignal, pipelineHandle, resumeSignal } from '../temporal/pipeline-contract.js';
import { runWorker } from './worker.js';
import { parseSample, runVerify, type VerifyCommandOptions } from './verify.js';
import { DDL_TRIGGER_SQL } from '../sources/postgres/postgres-ddl.js';

const program = new Command('ducktail')
  .description('Change data capture from PostgreSQL and MySQL/MariaDB into DuckDB, as durable Temporal workflows')
  .option('-c, --config <file>', 'pipeline configuration', 'ducktail.yaml')
  .addOption(new Option('--address <host:port>', 'Temporal server (default: TEMPORAL_ADDRESS, the config, then 127.0.0.1:7233)'))
  .addOption(new Option('--namespace <name>', 'Temporal namespace (default: TEMPORAL_NAMESPACE or the config)'))
  .showHelpAfterError();

const globals = (): GlobalOptions => program.opts<GlobalOptions>();

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a number of seconds greater than 0');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('a port is a number from 1 to 65535');
  return n;
}

program
  .command('dev')
  .description('run everything locally: embedded Temporal dev server + web UI, a worker, every pipeline, live progress')
  .option('--port <port>', 'dev server port', port, 7233)
  .option('--ui-port <port>', 'web UI port', port, 8233)
  .option('--catch-up', 'exit once every pipeline has loaded what its source had at start', false)
  .option('--metrics-port <port>', 'serve Prometheus metrics at http://HOST:PORT/metrics', port, DEV_METRICS_PORT)
  .option('--metrics-host <address>', 'address the metrics endpoint listens on', '127.0.0.1')
  .option('--no-metrics', 'serve no metrics')
  .action(async (opts: { port: number; uiPort: number; catchUp: boolean; metrics: boolean; metricsPort: number; metricsHost: string }) => {
    const config = await loadConfig(globals().config);
    // On a terminal the live view owns the screen: log lines go to a file, the newest problems under the view.
    const logFile = process.stderr.isTTY ? path.join(path.dirname(config.file), '.ducktail', 'dev.log') : undefined;
    const recent = logFile === undefined ? undefined : new RecentProblems();
    const devLogger = createDevLogger(logFile === undefined ? {} : { file: logFile, ...(recent === undefined ? {} : { recent }) });
    const sdkLogger = sdkLoggerOf(devLogger, logFile !== undefined || process.env.DUCKTAIL_LOG_LEVEL === 'debug' ? 'INFO' : 'WARN');
    const endpoint = await setUpMetrics({ ...(opts.metrics ? { port: opts.metricsPort } : {}), host: opts.metricsHost, logger: devLogger, sdkLogger }).catch(
      (err: unknown) => {
        // A busy port must not keep the pipelines from running locally.
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`warning: no metrics: ${err.message}\n`);
        return null;
      },
    );
    try {
      process.exitCode = await runDev(globals(), config, { ...opts, metrics: endpoint?.metrics, metricsUrl: endpoint?.url, logFile, recent }, devLogger);
    } finally {
      await endpoint?.close();
    }
  });

program
  .command('worker')
  .description('run a worker for every pipeline on the task queue (one process per DuckDB file)')
  .option('--metrics-port <port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (default: no metrics)', port)
  .option('--metrics-host <address>', 'address the metrics endpoint listens on', '0.0.0.0')
  .action(async (opts: { metricsPort?: number; metricsHost: string }) => {
    const config = await loadConfig(globals().config);
    // Before any Temporal connection: the SDK's metrics are set up with its runtime.
    const endpoint = await setUpMetrics({
      ...(opts.metricsPort === undefined ? {} : { port: opts.metricsPort }),
      host: opts.metricsHost,
      logger,
      sdkLogger: sdkLoggerOf(logger, 'INFO'),
    });
    if (endpoint !== null) logger.info({ url: endpoint.url }, 'serving metrics');
    try {
      await runWorker(globals(), config, logger, endpoint?.metrics);
    } finally {
      await endpoint?.close();
    }
  });

program
  .command('start')
  .description('check the sources and destinations, start pipelines (all when none is named), and wait until they run')
  .argument('[pipelines...]')
  .option('--catch-up', 'run until the source position seen at start is loaded, then complete', false)
  .option('--no-wait', `return once the workflows are started, without waiting (up to ${START_WAIT_MS / 1000} s) for them to leave phase starting`)
  .action(async (names: string[], opts: { catchUp: boolean; wait: boolean }) => {
    const config = await loadConfig(globals().config);
    const pipelines = selectPipelines(config, names);
    const preflight = await preflightAll(pipelines, logger);
    for (const [name, report] of preflight) {
      for (const w of report.warnings) process.stderr.write(`warning (${name}): ${w}\n`);
    }
    const client = await connectClient(globals(), config);
    for (const spec of pipelines) {
      const outcome = await startPipeline(client, config.temporal.taskQueue, spec, opts);
      if (outcome === 'started') {
        process.stdout.write(`${spec.name}: started (workflow ${workflowId(spec.name)})\n`);
        continue;
      }
      const changes = await reconfigurePipeline(client, spec, preflight.get(spec.name));
      process.stdout.write(`${spec.name}: already running (workflow ${workflowId(spec.name)})${changes.length === 0 ? '' : ', spec updated:'}\n`);
      for (const line of changes) process.stdout.write(`  ${line}\n`);
    }
    if (!opts.wait) return;
    const reports = await waitUntilStarted(client, config.temporal.taskQueue, pipelines.map((p) => p.name));
    for (const r of reports) (r.ok ? process.stdout : process.stderr).write(`${r.ok ? '' : 'error: '}${r.pipeline}: ${r.message}\n`);
    if (reports.some((r) => !r.ok)) process.exitCode = 1;
  });

for (const [name, signal, done] of [
  ['pause', pauseSignal, 'pausing after the current batch'],
  ['resume', resumeSignal, 'resuming'],
] as const) {
  program
    .command(name)
    .description(`${name} pipelines (all when none is named)`)
    .argument('[pipelines...]')
    .action(async (names: string[]) => {
      const config = await loadConfig(globals().config);
      const client = await connectClient(globals(), config);
      for (const spec of selectPipelines(config, names)) {
        await pipelineHandle(client, spec.name).signal(signal);
        process.stdout.write(`${spec.name}: ${done}\n`);
      }
    });
}

program
  .command('stop')
  .description('stop pipelines gracefully after their current batch (all when none is named)')
  .argument('[pipelines...]')
  .option('--no-wait', 'return without waiting for the workflows to finish')
  .option('--timeout <seconds>', 'give up waiting after this long (exit code 1)', seconds, 60)
  .option('--force', 'terminate the workflows at once (safe: the checkpoint lives in DuckDB; the next start resumes from it)', false)
  .action(async (names: string[], opts: { wait: boolean; timeout: number; force: boolean }) => {
    const config = await loadConfig(globals().config);
    const client = await connectClient(globals(), config);
    for (const spec of selectPipelines(config, names)) {
      const outcome = await stopPipeline(client, spec.name, {
        wait: opts.wait,
        timeoutMs: opts.timeout * 1000,
        force: opts.force,
        say: (line) => process.stderr.write(`${line}\n`),
      });
      const said = {
        stopped: 'stopped',
        'stop requested': 'stop requested (it stops after the current batch)',
        terminated: 'terminated (nothing is lost: the checkpoint lives in DuckDB; `ducktail start` resumes from it)',
        'not running': 'not running',
      }[outcome];
      process.stdout.write(`${spec.name}: ${said}\n`);
    }
  });

program
  .command('resync')
  .description('copy tables of a running pipeline again while it keeps streaming (rows the source no longer has end deleted)')
  .argument('<pipeline>')
  .argument('<tables...>', 'source tables, schema.table')
  .option('--wait', 'wait until the copies are done, showing progress', false)
  .option('--timeout <seconds>', 'with --wait: give up waiting after this long (exit code 1; the copy goes on)', seconds, 3600)
  .action(async (name: string, tables: string[], opts: { wait: boolean; timeout: number }) => {
    const config = await loadConfig(globals().config);
    const [spec] = selectPipelines(config, [name]);
    if (spec === undefined) return;
    const client = await connectClient(globals(), config);
    const id = await resyncTables(client, spec, tables, logger, {
      wait: opts.wait,
      timeoutMs: opts.timeout * 1000,
      say: (line) => process.stderr.write(`${spec.name}: ${line}\n`),
    });
    process.stdout.write(
      opts.wait
        ? `${spec.name}: ${tables.join(', ')} copied again\n`
        : `${spec.name}: re-sync of ${tables.join(', ')} requested (${id}); \`ducktail status ${spec.name}\` shows its progress\n`,
    );
  });

program
  .command('status')
  .description('phase, position, lag, rows per table and last error of each pipeline')
  .argument('[pipelines...]')
  .option('--json', 'print JSON', false)
  .action(async (names: string[], opts: { json: boolean }) => {
    const config = await loadConfig(globals().config);
    const client = await connectClient(globals(), config);
    const rows = await readStatuses(client, selectPipelines(config, names));
    process.stdout.write((opts.json ? JSON.stringify(rows, null, 2) : formatStatus(rows)) + '\n');
  });

program
  .command('schedule')
  .description('run catch-up runs of pipelines on a Temporal Schedule (each loads what the source had at its start, then completes)')
  .argument('[pipelines...]')
  .option('--every <interval>', 'how often: 30s, 15m, 1h, 1d')
  .option('--delete', 'remove the schedule instead', false)
  .action(async (names: string[], opts: { every?: string; delete: boolean }) => {
    const config = await loadConfig(globals().config);
    const client = await connectClient(globals(), config);
    for (const spec of selectPipelines(config, names)) {
      if (opts.delete) {
        const deleted = await unschedulePipeline(client, spec.name);
        process.stdout.write(`${spec.name}: ${deleted ? 'schedule deleted' : 'no schedule'}\n`);
        continue;
      }
      if (opts.every === undefined) throw new ConfigError('schedule needs --every (e.g. --every 1h) or --delete');
      const outcome = await schedulePipeline(client, config.temporal.taskQueue, spec, opts.every);
      process.stdout.write(`${spec.name}: schedule ${scheduleId(spec.name)} ${outcome}, a catch-up run every ${opts.every}\n`);
    }
  });

program
  .command('verify')
  .description('compare a MERGE pipeline\'s source tables with their DuckDB copy by key ranges and checksums (exit 0 equal, 1 differs, 2 error)')
  .argument('<pipeline>')
  .option('--tables <list>', 'only these source tables, comma-separated (schema.table)')
  .option('--json', 'print the result as JSON', false)
  .option('--sample <n>', 'list at most this many differing keys per table', parseSample, 20)
  .option('--catch-up-timeout <seconds>', 'how long to wait for a running pipeline to catch up before re-checking differences', seconds, 60)
  .option('--no-wait', 're-check differences at once instead of waiting for the pipeline to catch up')
  .option('--repair', 're-sync the tables that differ while the pipeline runs (see resync), then verify them again', false)
  .action(async (pipeline: string, opts: VerifyCommandOptions) => {
    process.exitCode = await runVerify(globals(), pipeline, opts, {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    });
  });

program
  .command('query')
  .description('run read-only SQL on a pipeline\'s DuckDB file or DuckLake with the bundled DuckDB, while the pipeline runs')
  .argument('<sql>')
  .option('--pipeline <name>', 'whose destination (needed when the config has several)')
  .option('--json', 'print rows as JSON objects', false)
  .option('--csv', 'print CSV with a header', false)
  .option('--as-of-position <pos>', 'lakes: read every table as of this source position of the pipeline (an LSN like 0/16B3748, or binlog file:offset)')
  .option('--as-of-snapshot <id>', 'lakes: read every table as of this lake snapshot id')
  .action(async (sql: string, opts: QueryOptions) => {
    const config = await loadConfig(globals().config);
    process.stdout.write(`${await runQuery(config, sql, opts)}\n`);
  });

program
  .command('spec')
  .description('print the JSON input (and the workflow id, task queue and type) that starts the pipeline from the Temporal UI\'s Start Workflow form')
  .argument('<pipeline>')
  .action(async (name: string) => {
    const config = await loadConfig(globals().config);
    const [spec] = selectPipelines(config, [name]);
    if (spec === undefined) return;
    const { fields, input } = formatStartForm(startForm(config, spec));
    process.stderr.write(`${fields}\n`);
    process.stdout.write(`${input}\n`);
  });

program
  .command('ddl-trigger')
  .description('print the SQL that installs the PostgreSQL DDL trigger, for a superuser to run once per source database')
  .action(() => {
    process.stdout.write(`${DDL_TRIGGER_SQL}\n`);
  });

program
  .command('upkeep')
  .description("run a lake pipeline's upkeep now: merge small files, expire old snapshots, delete unused files (it also runs on a schedule, see destination.upkeep)")
  .argument('<pipelines...>')
  .action(async (names: string[]) => {
    const config = await loadConfig(globals().config);
    const specs = selectPipelines(config, names);
    const files = specs.filter((s) => !isLake(s.destination)).map((s) => s.name);
    if (files.length > 0) throw new ConfigError(`${files.join(', ')} ${files.length === 1 ? 'writes a DuckDB file' : 'write DuckDB files'}, not a lake: upkeep is for destination kind ducklake`, 'name lake pipelines only');
    const client = await connectClient(globals(), config);
    for (const spec of specs) {
      process.stdout.write(`${spec.name}: upkeep running (needs a worker on task queue ${config.temporal.taskQueue})…\n`);
      const report = await runUpkeepNow(client, config.temporal.taskQueue, spec);
      process.stdout.write(`${spec.name}: ${describeUpkeep(report)}\n`);
    }
  });

program
  .command('teardown')
  .description('for stopped pipelines: drop the replication slot and publication, forget the checkpoint (tables stay)')
  .argument('<pipelines...>')
  .action(async (names: string[]) => {
    const config = await loadConfig(globals().config);
    const client = await connectClient(globals(), config);
    for (const spec of selectPipelines(config, names)) {
      await teardownPipeline(client, spec, logger);
      process.stdout.write(`${spec.name}: torn down (source slot/publication dropped, checkpoint forgotten; tables kept)\n`);
    }
  });

program.parseAsync(process.argv).then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof DucktailError ? err.message : err instanceof Error ? err.message : String(err)}\n`);
    if (!(err instanceof DucktailError) && err instanceof Error && process.env.DUCKTAIL_DEBUG === '1') process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  },
);
