import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import type { DuckDBPipelineSpec } from '../../src/model/pipeline-spec.js';
import { pipelineHandle } from '../../src/temporal/pipeline-contract.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import type { VerifyReport } from '../../src/verify/verify-report.js';
import { fileSpec, startPipelineWorkflow, tempDir, waitForStatus } from './pipelines.js';
import { runCli, testServer } from './temporal.js';
import { WorkerProcess } from './worker-process.js';

/**
 * One source for the `ducktail verify` end-to-end tests: the tables (`items`, `comp` with a
 * composite key, `types` with one row of every common type), how to write to them, and what
 * verify must report as not compared.
 */
export interface VerifySourceFixture {
  label: string;
  /** The schema (PostgreSQL) or database (MySQL) holding the tables; also their DuckDB schema. */
  schema: string;
  /** The `source:` block of the pipelines, without `tables`. */
  source: Record<string, unknown>;
  /** Pipeline names (unique to this run). */
  names: { merge: string; keyless: string; append: string };
  /** Extra `source:` fields per pipeline (e.g. a MySQL serverId). */
  sourceExtra(name: string): Record<string, unknown>;
  /** Creates the tables with their first rows: 400 items, 300 comp rows, types rows 1 (values) and 2 (NULLs), a keyless table. */
  setup(): Promise<void>;
  /** After the pipeline started: types row 3 (a copy of row 1) and row 4 (edge values) arrive through the change stream. */
  streamTypes(): Promise<void>;
  /** One transaction of updates, inserts and deletes (`step` counts up from 0), never touching items 17 or comp (eu, 7). */
  churn(step: number): Promise<void>;
  /** Live rows per table at the source now. */
  count(table: string): Promise<number>;
  /** `types` columns that must be reported as not compared (patterns on the notCompared entries). */
  notCompared: RegExp[];
  cleanup(): Promise<void>;
}

const TQ_PREFIX = 'ducktail-verify';
const WAIT_MS = 120_000;

async function duckExec(file: string, statements: string[]): Promise<void> {
  const db = await DuckDBInstance.create(file);
  try {
    const c = await db.connect();
    for (const s of statements) await c.run(s);
    c.closeSync();
  } finally {
    db.closeSync();
  }
}

function parseReport(stdout: string): VerifyReport {
  return JSON.parse(stdout) as VerifyReport;
}

const diffs = (r: VerifyReport): string[] =>
  r.tables.flatMap((t) => t.differences.map((d) => `${t.table.slice(t.table.indexOf('.') + 1)} ${d.kind} ${d.key.join('/')}`)).sort();

/**
 * Registers the end-to-end tests of `ducktail verify` for one source: a real pipeline (a
 * `ducktail worker` child process, a Temporal dev server) replicates the fixture's tables, and the
 * CLI (`bin/ducktail.js`, see `cliCommand`) is run against it.
 */
export function describeVerifyE2E(f: VerifySourceFixture): void {
  describe(`ducktail verify against a ${f.label} pipeline (real ${f.label}, DuckDB, Temporal, worker process)`, () => {
    let server: DevServer;
    let worker: WorkerProcess | undefined;
    let dir: string;
    let configFile: string;
    let spec: DuckDBPipelineSpec;
    const table = (name: string): string => `${f.schema}.${name}`;
    const verify = (...args: string[]) => runCli(['--config', configFile, '--address', server.address, 'verify', ...args]);

    before(async () => {
      await f.setup();
      dir = await tempDir('ducktail-verify');
      server = await testServer();
      configFile = path.join(dir, 'ducktail.yaml');
      const common = { batch: { maxRows: 500, maxWaitMs: 200, idleWaitMs: 500 }, snapshot: { chunkRows: 250 } };
      const pipeline = (name: string, tables: string[], extra: Record<string, unknown>) => ({
        name,
        source: { ...f.source, ...f.sourceExtra(name), tables },
        destination: { path: `${name}.duckdb` },
        ...common,
        ...extra,
      });
      await writeFile(
        configFile,
        stringify({
          temporal: { taskQueue: `${TQ_PREFIX}-${f.names.merge}` },
          pipelines: [
            pipeline(f.names.merge, [table('items'), table('comp'), table('types')], { mode: 'merge' }),
            pipeline(f.names.keyless, [table('nokey')], { mode: 'merge', keyless: 'append' }),
            pipeline(f.names.append, [table('items')], { mode: 'append' }),
          ],
        }),
      );
      const config = await loadConfig(configFile);
      spec = fileSpec(config.pipelines[0]!);
      worker = new WorkerProcess(configFile, server.address);
      for (const p of config.pipelines.slice(0, 2)) await startPipelineWorkflow(server.env.client, config.temporal.taskQueue, p);
      await waitForStatus(server.env.client, f.names.merge, 'the snapshot is loaded', (s) => s.phase === 'streaming', WAIT_MS);
      await f.streamTypes();
      await waitForStatus(server.env.client, f.names.merge, 'the streamed types rows are loaded', (s) => (s.counts[table('types')]?.insert ?? 0) >= 2, WAIT_MS);
      await waitForStatus(server.env.client, f.names.keyless, 'the keyless table is loaded', (s) => s.phase === 'streaming', WAIT_MS);
    });

    after(async () => {
      await worker?.kill('SIGKILL');
      await server?.stop();
      await f.cleanup();
    });

    test('after replication: exit 0, every table equal, rows counted, uncomparable columns named', { timeout: WAIT_MS }, async () => {
      const r = await verify(f.names.merge, '--json');
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const report = parseReport(r.stdout);
      assert.equal(report.equal, true);
      assert.deepEqual(report.tables.map((t) => t.table), ['comp', 'items', 'types'].map(table));
      for (const t of report.tables) {
        assert.equal(t.equal, true, t.table);
        assert.equal(t.error, null);
        assert.equal(t.sourceRows, await f.count(t.table.slice(t.table.indexOf('.') + 1)), `${t.table}: source rows`);
        assert.equal(t.destinationRows, t.sourceRows, `${t.table}: DuckDB rows`);
      }
      const types = report.tables.find((t) => t.table === table('types'))!;
      assert.equal(types.sourceRows, 4);
      for (const re of f.notCompared) assert.ok(types.notCompared.some((n) => re.test(n)), `${re} in ${JSON.stringify(types.notCompared)}`);
      assert.equal(types.notCompared.length, f.notCompared.length, JSON.stringify(types.notCompared));
      assert.deepEqual(report.tables.find((t) => t.table === table('comp'))!.keyColumns, ['region', 'id']);

      const text = await verify(f.names.merge);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`${table('items')}: 400 rows in the source, 400 live in DuckDB: equal`));
      assert.match(text.stdout, /result: equal/);
      assert.match(text.stdout, /not compared: /);
    });

    test('while changes keep flowing and the pipeline runs: exit 0 (differences re-checked after catch-up)', { timeout: 300_000 }, async () => {
      let writing = true;
      let steps = 0;
      const writer = (async () => {
        for (; writing; steps++) {
          await f.churn(steps);
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const firstPass: number[] = [];
      try {
        await new Promise((r) => setTimeout(r, 1000));
        for (let run = 0; run < 4 && (run < 2 || !firstPass.some((n) => n > 0)); run++) {
          const r = await verify(f.names.merge, '--json', '--catch-up-timeout', '90');
          assert.equal(r.code, 0, `run ${run}: ${r.stderr}\n${r.stdout}`);
          const report = parseReport(r.stdout);
          assert.equal(report.equal, true);
          firstPass.push(report.recheck?.firstPassDifferences ?? 0);
          if (report.recheck !== null) assert.equal(report.recheck.caughtUp, true, JSON.stringify(report.recheck));
        }
      } finally {
        writing = false;
        await writer;
      }
      assert.ok(steps > 20, `changes kept flowing (${steps} transactions)`);
      // The copy lagged while verify read it, so the first pass saw keys in flight: the re-check is what made it equal.
      assert.ok(firstPass.some((n) => n > 0), `some first pass found keys in flight: ${JSON.stringify(firstPass)}`);
    });

    test('a tampered copy: exit 1 naming exactly the changed, missing and extra keys (no row values)', { timeout: WAIT_MS }, async () => {
      // Caught up (verify waits for that), then stopped: the worker gives the file up.
      const settled = await verify(f.names.merge);
      assert.equal(settled.code, 0, settled.stderr + settled.stdout);
      const handle = pipelineHandle(server.env.client, f.names.merge);
      await handle.cancel();
      await handle.result();
      await worker?.kill('SIGTERM');
      worker = undefined;

      const s = `"${f.schema}"`;
      await duckExec(spec.destination.path, [
        `UPDATE ${s}.comp SET v = v + 1 WHERE region = 'eu' AND id = 7`,
        `UPDATE ${s}.items SET __deleted = true WHERE id = 17`,
        `INSERT INTO ${s}.items (id, v, t, __deleted, __op) VALUES (100000, 1, 'secret extra value', false, 'insert')`,
      ]);
      const r = await verify(f.names.merge, '--json');
      assert.equal(r.code, 1, r.stderr + r.stdout);
      const report = parseReport(r.stdout);
      assert.equal(report.equal, false);
      assert.deepEqual(diffs(report), ['comp changed eu/7', 'items extra 100000', 'items missing 17']);
      const items = report.tables.find((t) => t.table === table('items'))!;
      assert.equal(items.equal, false);
      assert.equal(items.ranges.length > 0, true);
      assert.ok(items.ranges.every((x) => x.resolved));
      assert.equal(report.tables.find((t) => t.table === table('types'))!.equal, true);
      assert.match(report.recheck?.note ?? '', /not running/);

      const text = await verify(f.names.merge);
      assert.equal(text.code, 1);
      assert.match(text.stdout, /changed +region=eu, id=7/);
      assert.match(text.stdout, /missing +id=17/);
      assert.match(text.stdout, /extra +id=100000/);
      assert.match(text.stdout, /result: DIFFERS \(2 tables\)/);
      assert.doesNotMatch(text.stdout + text.stderr, /secret extra value|row 17/, 'no row values in the output');

      const sampled = parseReport((await verify(f.names.merge, '--json', '--sample', '1', '--tables', table('items'))).stdout);
      assert.deepEqual(sampled.tables.map((t) => [t.table, t.differences.length, t.differenceCount, t.truncated]), [[table('items'), 1, 2, true]]);

      // One microsecond off in a TIMESTAMPTZ of the types row is a changed row too.
      await duckExec(spec.destination.path, [`UPDATE ${s}.types SET tz = tz + INTERVAL 1 MICROSECOND WHERE id = 1`]);
      const micro = await verify(f.names.merge, '--json', '--tables', table('types'));
      assert.equal(micro.code, 1, micro.stderr);
      assert.deepEqual(diffs(parseReport(micro.stdout)), ['types changed 1']);
    });

    test('--repair re-syncs the differing tables while the pipeline runs and changes flow, then they verify equal', { timeout: 600_000 }, async () => {
      worker = new WorkerProcess(configFile, server.address);
      await startPipelineWorkflow(server.env.client, `${TQ_PREFIX}-${f.names.merge}`, spec);
      await waitForStatus(server.env.client, f.names.merge, 'streaming again', (st) => st.phase === 'streaming', WAIT_MS);
      let writing = true;
      const writer = (async () => {
        for (let steps = 1000; writing; steps++) {
          await f.churn(steps);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      let r;
      try {
        r = await verify(f.names.merge, '--repair', '--json', '--catch-up-timeout', '90');
      } finally {
        writing = false;
        await writer;
      }
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const { before, after } = JSON.parse(r.stdout) as { before: VerifyReport; after: VerifyReport };
      assert.deepEqual(diffs(before), ['comp changed eu/7', 'items extra 100000', 'items missing 17', 'types changed 1']);
      assert.equal(after.equal, true, JSON.stringify(after));
      assert.deepEqual(after.tables.map((t) => t.table).sort(), ['comp', 'items', 'types'].map(table));
      assert.match(r.stderr, /repairing: re-syncing/);
      // Only the differing keys are copied (and the extra one deleted), not the tables.
      assert.match(r.stderr, new RegExp(`${table('items')}: re-syncing 2 keys`));
      assert.match(r.stderr, new RegExp(`${table('comp')}: re-syncing 1 keys`));
      const again = await verify(f.names.merge);
      assert.equal(again.code, 0, again.stderr + again.stdout);
    });

    test('errors exit 2 with what is wrong: unknown pipeline or table, no primary key, APPEND mode', { timeout: WAIT_MS }, async () => {
      const unknown = await verify('no_such_pipeline');
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /no pipeline named "no_such_pipeline"/);

      const missing = await verify(f.names.merge, '--tables', table('itemz'));
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, new RegExp(`table ${table('itemz')} is not replicated by pipeline`));

      const keyless = await verify(f.names.keyless, '--json');
      assert.equal(keyless.code, 2, keyless.stderr + keyless.stdout);
      const k = parseReport(keyless.stdout).tables[0]!;
      assert.match(k.error ?? '', /nokey has no primary key: verify compares MERGE copies/);

      const append = await verify(f.names.append);
      assert.equal(append.code, 2);
      assert.match(append.stderr, /runs in APPEND mode: verify compares MERGE copies/);
    });
  });
}
