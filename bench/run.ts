/**
 * Ducktail benchmarks: `npm run bench -- [--scenario NAME]... [--quick] [--json FILE]`.
 * Each scenario runs real pipelines (source → Temporal workflow → DuckDB) with the worker in its
 * own process, and reports throughput as a ratio to a floor measured in the same run on the same
 * data, the worker's peak RSS, and the workflow history written per batch. See README, "Benchmarks".
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { startDevServer } from '../src/temporal/dev-server.js';
import { BenchContext, FULL_SIZES, QUICK_SIZES, type Scenario, type Sizes } from './context.js';
import { dropBenchLake } from './lake.js';
import { MY_DB, mysqlBenchConnect } from './mysql-workload.js';
import { pgConnect } from '../test/helpers/postgres.js';
import { dropPgBenchReplication, PG_DB, PG_SCHEMA, pgBenchConnect } from './pg-workload.js';
import { formatHistory, formatMarkdown, formatTable, writeResults, type BenchResult } from './result.js';
import { mysqlBacklog } from './scenarios/mysql-backlog.js';
import { mysqlSnapshot } from './scenarios/mysql-snapshot.js';
import { lakeWorkers } from './scenarios/lake-workers.js';
import { pgBacklog } from './scenarios/pg-backlog.js';
import { pgBigTxn } from './scenarios/pg-big-txn.js';
import { pgSnapshotWide } from './scenarios/pg-snapshot-wide.js';
import { pgSnapshot } from './scenarios/pg-snapshot.js';
import { pgSteady } from './scenarios/pg-steady.js';

const SCENARIOS: Scenario[] = [pgBacklog, pgSnapshot, pgSnapshotWide, pgSteady, mysqlBacklog, mysqlSnapshot, pgBigTxn, lakeWorkers];

interface Options {
  scenario?: string[];
  quick: boolean;
  json?: string;
  changes?: number;
  rows?: number;
  wideRows?: number;
  bigTxn?: number;
  steadySeconds?: number;
  lakeChanges?: number;
  markdown: boolean;
  keep: boolean;
}

function positiveInt(value: string): number {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('a whole number greater than 0');
  return n;
}

const program = new Command('bench')
  .description('Ducktail benchmarks: pipelines against floors measured in the same run')
  .addOption(
    new Option('-s, --scenario <name...>', 'scenarios to run (default: all)').choices(SCENARIOS.map((s) => s.name)),
  )
  .option('--quick', `small sizes (${QUICK_SIZES.changes} changes, ${QUICK_SIZES.rows} rows, ${QUICK_SIZES.steadySeconds} s per rate): all scenarios in under 3 minutes`, false)
  .option('--json <file>', 'also write the results (a JSON array) to this file')
  .option('--changes <n>', `backlog changes (default ${FULL_SIZES.changes})`, positiveInt)
  .option('--rows <n>', `snapshot rows (default ${FULL_SIZES.rows})`, positiveInt)
  .option('--wide-rows <n>', `rows of each of pg-snapshot-wide's ${FULL_SIZES.wideTables} tables (default ${FULL_SIZES.wideRows})`, positiveInt)
  .option('--big-txn <n>', `rows of pg-big-txn's one transaction (default ${FULL_SIZES.bigTxn})`, positiveInt)
  .option('--steady-seconds <n>', `seconds pg-steady offers each rate (default ${FULL_SIZES.steadySeconds})`, positiveInt)
  .option('--lake-changes <n>', `lake-workers: changes of all ${FULL_SIZES.lakePipelines} backlogs together (default ${FULL_SIZES.lakeChanges})`, positiveInt)
  .option('--markdown', 'print the results table as Markdown', false)
  .option('--keep', 'keep the scratch directory (DuckDB files, worker logs)', false)
  .addHelpText('after', `\nScenarios:\n${SCENARIOS.map((s) => `  ${s.name.padEnd(17)} ${s.summary}`).join('\n')}\n`)
  .showHelpAfterError();

function sizesOf(opts: Options): Sizes {
  const base = opts.quick ? QUICK_SIZES : FULL_SIZES;
  return {
    ...base,
    changes: opts.changes ?? base.changes,
    rows: opts.rows ?? base.rows,
    wideRows: opts.wideRows ?? base.wideRows,
    bigTxn: opts.bigTxn ?? base.bigTxn,
    steadySeconds: opts.steadySeconds ?? base.steadySeconds,
    lakeChanges: opts.lakeChanges ?? base.lakeChanges,
  };
}

async function main(): Promise<number> {
  program.parse();
  const opts = program.opts<Options>();
  const selected = SCENARIOS.filter((s) => opts.scenario === undefined || opts.scenario.includes(s.name));
  const sizes = sizesOf(opts);
  const say = (line: string): boolean => process.stderr.write(`${line}\n`);
  say(`bench: ${selected.map((s) => s.name).join(', ')}; ${JSON.stringify(sizes)}; ${os.cpus().length} cores`);

  // Workers run the built CLI, with its prebuilt workflow bundle, as users run it.
  say('bench: npm run build');
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'ducktail-bench-'));
  const server = await startDevServer();
  const ctx = new BenchContext(server, sizes, scratch);
  const results: BenchResult[] = [];
  const failed: string[] = [];
  const began = Date.now();
  try {
    await cleanUp(false);
    for (const scenario of selected) {
      const t0 = Date.now();
      say(`— ${scenario.name}: ${scenario.summary}`);
      try {
        const got = await scenario.run(ctx);
        results.push(...got);
        say(`${formatTable(got)}\n${got.map((r) => `  ${formatHistory(r)}`).join('\n')}\n  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      } catch (err) {
        failed.push(scenario.name);
        say(`${scenario.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
    }
  } finally {
    await server.stop();
    await cleanUp(true).catch((err: unknown) => say(`clean-up failed: ${String(err)}`));
    if (opts.keep) say(`scratch directory kept: ${scratch}`);
    else await rm(scratch, { recursive: true, force: true });
  }

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const files = [path.join(fileURLToPath(new URL('results', import.meta.url)), `${stamp}.json`), ...(opts.json === undefined ? [] : [path.resolve(opts.json)])];
  for (const file of files) await writeResults(file, results);
  process.stdout.write(`\n${opts.markdown ? formatMarkdown(results) : formatTable(results)}\n`);
  say(`${results.length} results in ${((Date.now() - began) / 1000).toFixed(0)} s, written to ${files.join(' and ')}`);
  if (failed.length > 0) say(`failed: ${failed.join(', ')}`);
  return failed.length > 0 ? 1 : 0;
}

/**
 * Drops what the benchmark leaves at the sources (an interrupted run's too): its slots and
 * publications, its schema or, at the end, its PostgreSQL database, its lake's catalog database,
 * and its MariaDB database.
 */
async function cleanUp(atEnd: boolean): Promise<void> {
  const pgc = await pgBenchConnect();
  try {
    await dropPgBenchReplication(pgc);
    await pgc.query(`DROP SCHEMA IF EXISTS ${PG_SCHEMA} CASCADE`);
  } finally {
    await pgc.end();
  }
  await dropBenchLake();
  if (atEnd) {
    const admin = await pgConnect();
    await admin.query(`DROP DATABASE IF EXISTS ${PG_DB} WITH (FORCE)`).finally(() => admin.end());
  }
  const conn = await mysqlBenchConnect();
  try {
    await conn.query(`DROP DATABASE IF EXISTS ${MY_DB}`);
  } finally {
    await conn.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
