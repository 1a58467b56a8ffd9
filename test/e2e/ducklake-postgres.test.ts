import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Json } from '@duckdb/node-api';
import type pg from 'pg';
import { stringify } from 'yaml';
import { runQuery } from '../../src/cli/query.js';
import { loadConfig } from '../../src/config/load-config.js';
import { DuckLakeSession } from '../../src/destinations/ducklake/ducklake-session.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import type { VerifyReport } from '../../src/verify/verify-report.js';
import { parseLsn } from '../../src/sources/postgres/postgres-position.js';
import { pipelineHandle } from '../../src/temporal/pipeline-contract.js';
import { createTestLake, LAKE_SKIP, type TestLake } from '../helpers/ducklake.js';
import { pipelineStatus, startPipelineWorkflow, tempDir, waitForStatus } from '../helpers/pipelines.js';
import { dropPgReplication, ensurePgDatabase, PG_HOST, PG_PORT, PG_USER, pgConnect } from '../helpers/postgres.js';
import { runCli, testServer } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';
import { WorkerProcess } from '../helpers/worker-process.js';

const DB = 'ducktail_e2e';
const TQ = 'e2e-lake';
const ROWS = 300;

describe('PostgreSQL → DuckLake pipelines (worker process, real PostgreSQL catalog, Temporal)', { skip: LAKE_SKIP }, () => {
  let server: DevServer;
  let pgc: pg.Client;
  let lake: TestLake;
  let reader: DuckLakeSession | undefined;
  let worker: WorkerProcess | undefined;

  before(async () => {
    await ensurePgDatabase(DB);
    pgc = await pgConnect(DB);
    await dropPgReplication(pgc, 'ducktail_e2e_lk');
    await pgc.query('DROP SCHEMA IF EXISTS e2e_lkm CASCADE; DROP SCHEMA IF EXISTS e2e_lka CASCADE; CREATE SCHEMA e2e_lkm; CREATE SCHEMA e2e_lka');
    await pgc.query('CREATE TABLE e2e_lkm.items (id int PRIMARY KEY, v int NOT NULL, note text)');
    await pgc.query('CREATE TABLE e2e_lka.events (id int PRIMARY KEY, v int NOT NULL)');
    await pgc.query(`INSERT INTO e2e_lkm.items SELECT g, g, 'n' || g FROM generate_series(1, ${ROWS}) g`);
    await pgc.query(`INSERT INTO e2e_lka.events SELECT g, 0 FROM generate_series(1, ${ROWS}) g`);
    lake = await createTestLake(path.join(await tempDir('ducktail-lake-e2e'), 'data'));
    server = await testServer();
  });

  after(async () => {
    await worker?.kill('SIGKILL');
    await reader?.close();
    await server?.stop();
    if (pgc !== undefined) {
      await dropPgReplication(pgc, 'ducktail_e2e_lk');
      await pgc.end();
    }
    await lake?.drop();
  });

  const query = async (sql: string): Promise<Record<string, Json>[]> => {
    reader ??= await DuckLakeSession.open({ destination: lake.destination, readOnly: true });
    return reader.exclusive((db) => db.rows(sql));
  };

  test('MERGE equals the source and APPEND equals the change log, in one lake', { timeout: 120_000 }, async () => {
    const source = { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: DB };
    const common = { destination: lake.destination, batch: { maxRows: 200, maxWaitMs: 100, idleWaitMs: 500 }, snapshot: { chunkRows: 150 } };
    const configFile = path.join(path.dirname(lake.destination.dataPath), 'ducktail.yaml');
    await writeFile(
      configFile,
      stringify({
        temporal: { taskQueue: TQ },
        pipelines: [
          { name: 'e2e_lk_merge', source: { ...source, tables: ['e2e_lkm.items'] }, mode: 'merge', ...common },
          { name: 'e2e_lk_append', source: { ...source, tables: ['e2e_lka.events'] }, mode: 'append', ...common },
        ],
      }),
    );
    const config = await loadConfig(configFile);
    const client = server.env.client;
    worker = new WorkerProcess(configFile, server.address);
    for (const spec of config.pipelines) await startPipelineWorkflow(client, TQ, spec);
    for (const spec of config.pipelines) {
      await waitForStatus(client, spec.name, 'snapshot copied, streaming', (s) => s.phase === 'streaming' && s.checkpoint !== null, 60_000);
    }

    // MERGE: changes, then a column added with a default and a type widened mid-stream.
    await pgc.query('UPDATE e2e_lkm.items SET v = v * 10, note = NULL WHERE id % 3 = 0');
    await pgc.query('DELETE FROM e2e_lkm.items WHERE id % 7 = 0');
    await pgc.query(`INSERT INTO e2e_lkm.items SELECT g, g, 'new' FROM generate_series(${ROWS + 1}, ${ROWS + 50}) g`);
    await pgc.query('ALTER TABLE e2e_lkm.items ALTER COLUMN v TYPE bigint');
    await pgc.query('ALTER TABLE e2e_lkm.items ADD COLUMN prio int DEFAULT 3');
    await pgc.query('UPDATE e2e_lkm.items SET prio = 9, v = 5000000000 WHERE id = 1');

    // APPEND: a known change log, in commit order.
    const log: [string, number, number | null][] = [];
    for (let t = 1; t <= 20; t++) {
      await pgc.query('UPDATE e2e_lka.events SET v = $1 WHERE id = $1', [t]);
      log.push(['update', t, t]);
      await pgc.query('DELETE FROM e2e_lka.events WHERE id = $1', [ROWS - t]);
      log.push(['delete', ROWS - t, 0]);
      await pgc.query('INSERT INTO e2e_lka.events VALUES ($1, $2)', [1000 + t, t]);
      log.push(['insert', 1000 + t, t]);
    }

    const expected = (await pgc.query<{ id: number; v: string; note: string | null; prio: number }>('SELECT id, v::text AS v, note, prio FROM e2e_lkm.items ORDER BY id')).rows;
    let got: unknown[] = [];
    await waitFor('MERGE equals the source', async () => {
      got = await query('SELECT id, v::VARCHAR AS v, note, prio FROM e2e_lkm.items WHERE NOT __deleted ORDER BY id').catch((err: Error) => [err.message]);
      return JSON.stringify(got) === JSON.stringify(expected) ? true : undefined;
    }, { timeoutMs: 60_000 }).catch(async (err: Error) => {
      const status = await pipelineStatus(client, 'e2e_lk_merge');
      throw new Error(`${err.message}\nlake: ${JSON.stringify(got).slice(0, 500)}\nstatus: ${JSON.stringify(status)}`);
    });
    assert.deepEqual(await query('SELECT count(*)::INT AS n FROM e2e_lkm.items WHERE __deleted'), [{ n: Math.floor(ROWS / 7) }]);
    assert.ok(expected.some((r) => r.prio === 3) && expected.some((r) => r.v === '5000000000'));

    // ducktail verify compares the lake with the source while the pipeline runs; APPEND is refused.
    const verify = await runCli(['--config', configFile, '--address', server.address, 'verify', 'e2e_lk_merge', '--json']);
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    const report = JSON.parse(verify.stdout) as VerifyReport;
    assert.match(report.destination, /^ducklake:/);
    assert.deepEqual(report.tables.map((t) => [t.table, t.equal, t.sourceRows, t.destinationRows]), [['e2e_lkm.items', true, expected.length, expected.length]]);
    const append = await runCli(['--config', configFile, '--address', server.address, 'verify', 'e2e_lk_append']);
    assert.equal(append.code, 2, append.stderr);
    assert.match(append.stderr, /runs in APPEND mode/);

    const appended = await waitFor('APPEND holds every change', async () => {
      const rows = await query("SELECT __op AS op, id, v FROM e2e_lka.events WHERE __op <> 'snapshot' ORDER BY __position, __seq").catch(() => []);
      return rows.length >= log.length ? rows : undefined;
    }, { timeoutMs: 60_000 });
    assert.deepEqual(appended.map((r) => [r.op, r.id, r.v]), log, 'APPEND equals the change log, in order, nothing doubled');
    assert.deepEqual(await query("SELECT count(*)::INT AS n FROM e2e_lka.events WHERE __op = 'snapshot'"), [{ n: ROWS }]);

    // Every commit recorded the position it reached: as of each, the change log holds exactly the
    // transactions committed at or before it (`__position` is the commit LSN).
    const recorded = (await query("SELECT commit_extra_info AS x FROM lake.snapshots() WHERE author = 'ducktail' ORDER BY snapshot_id"))
      .map((r) => JSON.parse(r.x as string) as { pipeline: string; text: string | null })
      .filter((i) => i.pipeline === 'e2e_lk_append' && i.text !== null)
      .map((i) => i.text!);
    assert.ok(recorded.length >= 2, `positions recorded: ${recorded.join(', ')}`);
    const logSql = "SELECT __op AS op, id, v, __position AS p FROM e2e_lka.events WHERE __op <> 'snapshot' ORDER BY __position, __seq";
    const now = await query(logSql);
    for (const at of recorded) {
      const then = JSON.parse(await runQuery(config, logSql, { pipeline: 'e2e_lk_append', json: true, csv: false, asOfPosition: at })) as unknown[];
      assert.deepEqual(then, now.filter((r) => parseLsn(r.p as string) <= parseLsn(at)), `as of ${at}`);
    }

    // Each pipeline's checkpoint is in the lake, beside its rows.
    const checkpoints = await query('SELECT pipeline FROM _ducktail.checkpoints ORDER BY pipeline');
    assert.deepEqual(checkpoints, [{ pipeline: 'e2e_lk_append' }, { pipeline: 'e2e_lk_merge' }]);
    for (const spec of config.pipelines) await pipelineHandle(client, spec.name).cancel();
    for (const spec of config.pipelines) await pipelineHandle(client, spec.name).result();
  });
});
