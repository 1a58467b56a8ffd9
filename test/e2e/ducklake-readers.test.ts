import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { stringify } from 'yaml';
import { runQuery } from '../../src/cli/query.js';
import { loadConfig, type DucktailConfig } from '../../src/config/load-config.js';
import { DuckLakeSession } from '../../src/destinations/ducklake/ducklake-session.js';
import { parseLsn } from '../../src/sources/postgres/postgres-position.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { pipelineHandle } from '../../src/temporal/pipeline-contract.js';
import { createTestLake, LAKE_SKIP, type TestLake } from '../helpers/ducklake.js';
import { pipelineStatus, startPipelineWorkflow, tempDir, waitForStatus } from '../helpers/pipelines.js';
import { dropPgReplication, ensurePgDatabase, PG_HOST, PG_PORT, PG_USER, pgConnect } from '../helpers/postgres.js';
import { testServer } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';
import { WorkerProcess } from '../helpers/worker-process.js';

const DB = 'ducktail_e2e';
const RUN = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
/** Not `ducktail_e2e_…`: tests that run at the same time drop every slot with that prefix. */
const SLOT = `ducktail_lakereaders_${RUN}`;
const SCHEMA = `e2e_lr_${RUN}`;
const PIPELINE = `e2e_lr_${RUN}`;
const TQ = `e2e-lake-readers-${RUN}`;
const ROWS = 1000;
/** Source transactions committed while the reader holds its transaction, one every `WRITE_GAP_MS`. */
const WRITES = 8;
const WRITE_GAP_MS = 600;
/** The reader holds its transaction at least this long, whatever the loads do. */
const HOLD_MS = 15_000;
/** Loads must have caught up with the source this long after the hold began, or the test fails (generous: 2 shared cores). */
const CATCH_UP_MS = 45_000;

/** What a reader sees: live rows and their sum, the pipeline's checkpoint, and how many batches with changes it has loaded. */
type Totals = { n: number; s: number; checkpoint: string; batches: number };

const TOTALS_SQL = `SELECT count(*)::INT AS n, coalesce(sum(v), 0)::INT AS s,
  (SELECT CAST(checkpoint AS VARCHAR) FROM _ducktail.checkpoints WHERE pipeline = '${PIPELINE}') AS checkpoint,
  (SELECT count(*)::INT FROM _ducktail.batches WHERE pipeline = '${PIPELINE}' AND events > 0) AS batches
  FROM ${SCHEMA}.items WHERE NOT __deleted`;
const ROWS_SQL = `SELECT id, v FROM ${SCHEMA}.items WHERE NOT __deleted ORDER BY id`;

/** The LSN a stored checkpoint (JSON text) reached: every transaction committed at or before it is loaded. */
function checkpointLsn(text: string): bigint {
  const { position } = JSON.parse(text) as { position: { kind: string; lsn: string } | null };
  assert.ok(position?.kind === 'pg', `a PostgreSQL checkpoint: ${text}`);
  return parseLsn(position.lsn);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a reader holding a long query on a DuckLake (worker process, real PostgreSQL catalog, Temporal)', { skip: LAKE_SKIP }, () => {
  let server: DevServer;
  let pgc: pg.Client;
  let lake: TestLake;
  let dir: string | undefined;
  let worker: WorkerProcess | undefined;
  let held: DuckLakeSession | undefined;

  before(async () => {
    await ensurePgDatabase(DB);
    pgc = await pgConnect(DB);
    await dropPgReplication(pgc, SLOT);
    await pgc.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}`);
    await pgc.query(`CREATE TABLE ${SCHEMA}.items (id int PRIMARY KEY, v int NOT NULL)`);
    await pgc.query(`INSERT INTO ${SCHEMA}.items SELECT g, g % 10 FROM generate_series(1, ${ROWS}) g`);
    dir = await tempDir('ducktail-lake-readers');
    lake = await createTestLake(path.join(dir, 'data'));
    server = await testServer();
  });

  after(async () => {
    await held?.close();
    await worker?.kill('SIGKILL');
    await server?.stop();
    if (pgc !== undefined) {
      await dropPgReplication(pgc, SLOT);
      await pgc.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
      await pgc.end();
    }
    await lake?.drop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** What `ducktail query --pipeline NAME` prints, as JSON: a fresh read-only attach of the lake, closed after the query. */
  const freshQuery = async <T>(config: DucktailConfig, sql: string): Promise<T[]> =>
    JSON.parse(await runQuery(config, sql, { pipeline: PIPELINE, json: true, csv: false })) as T[];

  const sourceRows = async () => (await pgc.query<{ id: number; v: number }>(`SELECT id, v FROM ${SCHEMA}.items ORDER BY id`)).rows;

  test('loads keep committing while a read-only reader holds its transaction, and the reader keeps its snapshot', { timeout: 180_000 }, async () => {
    const configFile = path.join(path.dirname(lake.destination.dataPath), 'ducktail.yaml');
    await writeFile(configFile, stringify({
      temporal: { taskQueue: TQ },
      pipelines: [{
        name: PIPELINE,
        source: { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: DB, tables: [`${SCHEMA}.items`], slot: SLOT, publication: SLOT },
        mode: 'merge',
        destination: { ...lake.destination, upkeep: false },
        batch: { maxRows: 200, maxWaitMs: 100, idleWaitMs: 300 },
        snapshot: { chunkRows: 500 },
      }],
    }));
    const config = await loadConfig(configFile);
    const [spec] = config.pipelines;
    assert.ok(spec);
    const client = server.env.client;
    // The worker stages batches under its TMPDIR: this test's directory, removed afterwards.
    worker = new WorkerProcess(configFile, server.address, [], { TMPDIR: dir });
    await startPipelineWorkflow(client, TQ, spec);
    await waitForStatus(client, PIPELINE, 'snapshot copied, streaming', (s) => s.phase === 'streaming' && s.checkpoint !== null, 90_000);
    const initial = await sourceRows();
    await waitFor('the initial copy in the lake', async () => {
      const rows = await freshQuery(config, ROWS_SQL).catch(() => []);
      return JSON.stringify(rows) === JSON.stringify(initial) ? true : undefined;
    }, { timeoutMs: 60_000 });

    // The reader: read-only, one transaction, its snapshot taken by its first query.
    held = await DuckLakeSession.open({ destination: lake.destination, readOnly: true });
    const heldTotals = async (): Promise<Totals> => (await held!.exclusive((db) => db.rows(TOTALS_SQL)))[0] as Totals;
    await held.exclusive((db) => db.run('BEGIN TRANSACTION'));
    const before = await heldTotals();
    const holdStart = Date.now();
    const holding = () => `${((Date.now() - holdStart) / 1000).toFixed(1)} s into the hold`;
    assert.deepEqual([before.n, before.s], [ROWS, initial.reduce((a, r) => a + r.v, 0)], 'the reader starts on the initial copy');
    const holdStartPg = (await pgc.query<{ at: Date }>('SELECT clock_timestamp() AS at')).rows[0]!.at;

    // Changes keep coming in separate transactions; after each, the reader still reads what it read first.
    for (let t = 1; t <= WRITES; t++) {
      await pgc.query('BEGIN');
      await pgc.query(`UPDATE ${SCHEMA}.items SET v = v + $1 WHERE id % ${WRITES} = $1 - 1`, [t]);
      await pgc.query(`INSERT INTO ${SCHEMA}.items SELECT g, $1 FROM generate_series(${ROWS + t * 10 + 1}, ${ROWS + t * 10 + 10}) g`, [t]);
      await pgc.query(`DELETE FROM ${SCHEMA}.items WHERE id = $1`, [t * 7]);
      await pgc.query('COMMIT');
      await sleep(WRITE_GAP_MS);
      assert.deepEqual(await heldTotals(), before, `the held reader's snapshot, after source transaction ${t} (${holding()})`);
    }
    const expected = await sourceRows();

    // The lake catches up with the source while the reader still holds its transaction.
    let lakeRows: unknown[] = [];
    await waitFor('the lake to equal the source while the reader holds its transaction', async () => {
      lakeRows = await freshQuery(config, ROWS_SQL).catch((err: Error) => [err.message]);
      return JSON.stringify(lakeRows) === JSON.stringify(expected) ? true : undefined;
    }, { timeoutMs: Math.max(1_000, CATCH_UP_MS - (Date.now() - holdStart)) }).catch(async (err: Error) => {
      const status = await pipelineStatus(client, PIPELINE);
      throw new Error(`${err.message} (${holding()})\nlake: ${JSON.stringify(lakeRows).slice(0, 300)}\nstatus: ${JSON.stringify(status)}`);
    });
    const caughtUp = Date.now() - holdStart;
    const [after] = await freshQuery<Totals>(config, TOTALS_SQL);
    assert.ok(after !== undefined && checkpointLsn(after.checkpoint) > checkpointLsn(before.checkpoint), 'a fresh reader sees a newer checkpoint');
    const loads = after.batches - before.batches;
    assert.ok(loads >= 2, `several loads committed during the hold, not one at its end (${loads})`);

    // The reader's query outlasts all of that, and its answer never changes.
    while (Date.now() - holdStart < HOLD_MS) {
      await sleep(1_000);
      assert.deepEqual(await heldTotals(), before, `the held reader's snapshot (${holding()})`);
    }
    assert.deepEqual(await heldTotals(), before, `the held reader's snapshot at the end of the hold (${holding()})`);
    // Else this test would prove nothing: DuckLake keeps the reader's catalog transaction (its
    // snapshot, its locks) open in PostgreSQL for as long as the reader's own transaction.
    const open = await pgc.query(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%' AND xact_start <= $2`,
      [lake.database, holdStartPg],
    );
    assert.ok((open.rowCount ?? 0) >= 1, `the reader's catalog transaction, begun before the hold, is still open at its end (${holding()})`);
    const heldMs = Date.now() - holdStart;
    await held.exclusive((db) => db.run('ROLLBACK'));

    // Released, the same reader sees what the loads committed meanwhile.
    const released = await heldTotals();
    assert.deepEqual([released.n, released.s], [after.n, after.s], 'the released reader sees the latest snapshot');
    assert.ok(checkpointLsn(released.checkpoint) >= checkpointLsn(after.checkpoint));
    assert.deepEqual([after.n, after.s], [expected.length, expected.reduce((a, r) => a + r.v, 0)]);
    process.stderr.write(`lake caught up ${caughtUp} ms into a ${heldMs} ms hold; ${loads} batches loaded during it\n`);

    await pipelineHandle(client, PIPELINE).cancel();
    await pipelineHandle(client, PIPELINE).result();
  });
});
