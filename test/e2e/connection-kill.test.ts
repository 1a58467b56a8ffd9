import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'mysql2/promise';
import type pg from 'pg';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import type { PipelineStatus } from '../../src/workflows/pipeline-state.js';
import { duckQuery } from '../helpers/duckdb.js';
import { MY_E2E_DB, MY_HOST, MY_PORT, myConnect, RUN_ID, uniqueServerId } from '../helpers/mysql.js';
import { startPipelineWorkflow, tempDir, waitForStatus } from '../helpers/pipelines.js';
import { dropPgReplication, ensurePgDatabase, PG_HOST, PG_PORT, PG_USER, pgConnect } from '../helpers/postgres.js';
import { testServer } from '../helpers/temporal.js';
import { WorkerProcess } from '../helpers/worker-process.js';
import { pipelineHandle, queryStatus } from '../../src/temporal/pipeline-contract.js';

const PG_DB = 'ducktail_e2e';
const SLOT = `ducktail_e2e_ck_${RUN_ID}`;
const ROWS = 1000;
const KILLS = 6;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Item 7 of issue 6: the source connection killed during captures under load (PostgreSQL:
 * `pg_terminate_backend` of the walsender; MariaDB: `KILL` of the Binlog Dump thread) must not
 * take down the `ducktail worker` process, and the pipeline must carry on with nothing lost.
 */
describe('source connection killed during captures under load (real PostgreSQL, MariaDB, DuckDB, Temporal)', () => {
  let server: DevServer;
  let dir: string;
  let worker: WorkerProcess | undefined;

  before(async () => {
    dir = await tempDir('ducktail-conn-kill');
    server = await testServer();
  });

  after(async () => {
    await worker?.kill('SIGKILL');
    await server?.stop();
  });

  /** Starts a worker process; the returned check fails the test if it ever exited on its own. */
  function startWorker(configFile: string): { deaths: () => string[] } {
    const died: string[] = [];
    worker = new WorkerProcess(configFile, server.address);
    let tail = '';
    worker.child.stderr?.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-4000)));
    worker.child.once('exit', (code, signal) => died.push(`worker exited (code ${code}, signal ${signal}); last output:\n${tail}`));
    return { deaths: () => died };
  }

  async function waitCaughtUp(pipeline: string, done: (s: PipelineStatus) => boolean, deaths: () => string[]): Promise<void> {
    const deadline = Date.now() + 180_000;
    for (;;) {
      assert.deepEqual(deaths(), [], 'the worker process stays alive');
      const s = await queryStatus(pipelineHandle(server.env.client, pipeline)).catch(() => null);
      if (s !== null && done(s)) return;
      if (Date.now() > deadline) assert.fail(`pipeline ${pipeline} did not catch up: ${JSON.stringify(s)}`);
      await sleep(500);
    }
  }

  describe('PostgreSQL: pg_terminate_backend of the walsender', () => {
    let pgc: pg.Client;
    const schema = `e2e_ck_${RUN_ID}`;

    before(async () => {
      await ensurePgDatabase(PG_DB);
      pgc = await pgConnect(PG_DB);
      await dropPgReplication(pgc, SLOT);
      await pgc.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
      await pgc.query(`CREATE TABLE ${schema}.items (id int PRIMARY KEY, v int NOT NULL, pad text)`);
      await pgc.query(`INSERT INTO ${schema}.items SELECT g, 0, repeat('x', 200) FROM generate_series(1, ${ROWS}) g`);
    });

    after(async () => {
      await worker?.kill('SIGKILL');
      worker = undefined;
      await dropPgReplication(pgc, SLOT);
      await pgc.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pgc.end();
    });

    test('the worker survives, the pipeline continues, the copy is complete', { timeout: 400_000 }, async () => {
      const configFile = path.join(dir, 'pg.yaml');
      const name = `e2e_ck_pg_${RUN_ID}`;
      await writeFile(configFile, stringify({
        temporal: { taskQueue: `e2e-ck-pg-${RUN_ID}` },
        pipelines: [{
          name,
          source: { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: PG_DB, tables: [`${schema}.items`], slot: SLOT, publication: SLOT },
          destination: { path: 'pg.duckdb' },
          batch: { maxRows: 2000, maxWaitMs: 300, idleWaitMs: 500 },
        }],
      }));
      const [spec] = (await loadConfig(configFile)).pipelines;
      assert.ok(spec);
      const { deaths } = startWorker(configFile);
      await startPipelineWorkflow(server.env.client, spec.source.kind === 'postgres' ? `e2e-ck-pg-${RUN_ID}` : '', spec);
      await waitForStatus(server.env.client, name, 'streaming', (s) => s.phase === 'streaming', 90_000);

      // A steady load: transactions of 100 updates and 20 inserts, back to back.
      let writing = true;
      let changes = 0;
      const load = (async () => {
        for (let t = 0; writing; t++) {
          await pgc.query('BEGIN');
          await pgc.query(`UPDATE ${schema}.items SET v = v + 1, pad = repeat(md5(random()::text), 8) WHERE id IN (SELECT id FROM ${schema}.items ORDER BY random() LIMIT 100)`);
          await pgc.query(`INSERT INTO ${schema}.items SELECT 100000 + $1 * 20 + g, 1, 'n' FROM generate_series(1, 20) g`, [t]);
          await pgc.query('COMMIT');
          changes += 120;
          await sleep(10);
        }
      })();

      let killed = 0;
      for (let i = 0; i < KILLS; i++) {
        await worker!.waitForLog(/"msg":"capture started"/);
        await sleep(20 + Math.floor(Math.random() * 200));
        const r = await pgc.query('SELECT pg_terminate_backend(active_pid) AS ok FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL', [SLOT]);
        killed += r.rowCount ?? 0;
        await sleep(1500);
        assert.deepEqual(deaths(), [], 'the worker process stays alive');
      }
      writing = false;
      await load;
      assert.ok(killed >= KILLS - 1, `walsenders terminated: ${killed}`);

      await waitCaughtUp(name, (s) => s.events >= ROWS + changes, deaths);
      const expected = (await pgc.query<{ id: number; v: number }>(`SELECT id, v FROM ${schema}.items ORDER BY id`)).rows;
      await pipelineHandle(server.env.client, name).cancel();
      await pipelineHandle(server.env.client, name).result();
      await worker!.kill('SIGTERM');
      const copy = await duckQuery(path.join(dir, 'pg.duckdb'), `SELECT id, v FROM ${schema}.items WHERE NOT __deleted ORDER BY id`);
      assert.deepEqual(copy, expected.map((r) => ({ id: r.id, v: r.v })), 'the copy equals the source');
    });
  });

  describe('MariaDB: KILL of the Binlog Dump connection', () => {
    let my: Connection;
    const table = `ck_items_${RUN_ID}`;
    const user = `ducktail_ck_${RUN_ID}`;

    before(async () => {
      my = await myConnect();
      await my.query(`DROP TABLE IF EXISTS ${table}`);
      await my.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(300))`);
      await my.query(`INSERT INTO ${table} SELECT seq, 0, REPEAT('x', 200) FROM mysql.seq_1_to_${ROWS}`);
      // A user of its own, so the test kills only this pipeline's binlog connection.
      await my.query(`DROP USER IF EXISTS '${user}'@'%'`);
      await my.query(`CREATE USER '${user}'@'%'`);
      await my.query(`GRANT SELECT, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR ON *.* TO '${user}'@'%'`);
    });

    after(async () => {
      await worker?.kill('SIGKILL');
      worker = undefined;
      await my.query(`DROP TABLE IF EXISTS ${table}`);
      await my.query(`DROP USER IF EXISTS '${user}'@'%'`);
      await my.end();
    });

    test('the worker survives, the pipeline continues, the copy is complete', { timeout: 400_000 }, async () => {
      const configFile = path.join(dir, 'my.yaml');
      const name = `e2e_ck_my_${RUN_ID}`;
      const tq = `e2e-ck-my-${RUN_ID}`;
      await writeFile(configFile, stringify({
        temporal: { taskQueue: tq },
        pipelines: [{
          name,
          source: { kind: 'mysql', host: MY_HOST, port: MY_PORT, user, tables: [`${MY_E2E_DB}.${table}`], serverId: uniqueServerId() },
          destination: { path: 'my.duckdb' },
          batch: { maxRows: 2000, maxWaitMs: 300, idleWaitMs: 500 },
        }],
      }));
      const [spec] = (await loadConfig(configFile)).pipelines;
      assert.ok(spec);
      const { deaths } = startWorker(configFile);
      await startPipelineWorkflow(server.env.client, tq, spec);
      await waitForStatus(server.env.client, name, 'streaming', (s) => s.phase === 'streaming', 90_000);

      let writing = true;
      let changes = 0;
      const load = (async () => {
        for (let t = 0; writing; t++) {
          await my.query('BEGIN');
          await my.query(`UPDATE ${table} SET v = v + 1, pad = REPEAT(MD5(RAND()), 8) ORDER BY RAND() LIMIT 100`);
          await my.query(`INSERT INTO ${table} SELECT 100000 + ? * 20 + seq, 1, 'n' FROM mysql.seq_1_to_20`, [t]);
          await my.query('COMMIT');
          changes += 120;
          await sleep(10);
        }
      })();

      let killed = 0;
      for (let i = 0; i < KILLS; i++) {
        await worker!.waitForLog(/"msg":"capture started"/);
        await sleep(20 + Math.floor(Math.random() * 200));
        const [rows] = await my.query(`SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? AND COMMAND = 'Binlog Dump'`, [user]);
        for (const { ID } of rows as { ID: number }[]) {
          await my.query(`KILL ${Number(ID)}`).catch(() => undefined);
          killed++;
        }
        await sleep(1500);
        assert.deepEqual(deaths(), [], 'the worker process stays alive');
      }
      writing = false;
      await load;
      assert.ok(killed >= KILLS - 1, `binlog connections killed: ${killed}`);

      await waitCaughtUp(name, (s) => s.events >= ROWS + changes, deaths);
      const [expected] = await my.query(`SELECT id, v FROM ${table} ORDER BY id`);
      await pipelineHandle(server.env.client, name).cancel();
      await pipelineHandle(server.env.client, name).result();
      await worker!.kill('SIGTERM');
      const copy = await duckQuery(path.join(dir, 'my.duckdb'), `SELECT id, v FROM ${MY_E2E_DB}.${table} WHERE NOT __deleted ORDER BY id`);
      assert.deepEqual(copy, (expected as { id: number; v: number }[]).map((r) => ({ id: r.id, v: r.v })), 'the copy equals the source');
    });
  });
});
