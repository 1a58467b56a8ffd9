import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'mysql2/promise';
import { stringify } from 'yaml';
import { findTemporalCli, type DevServer } from '../../src/temporal/dev-server.js';
import { duckQuery } from '../helpers/duckdb.js';
import { asText, MY_E2E_DB, MY_HOST, MY_PORT, MY_USER, myConnect, mysqlSpec, myTextRows, resetMyDatabase, RUN_ID } from '../helpers/mysql.js';
import { pipelineStatus, startPipelineWorkflow, tempDir, waitForStatus } from '../helpers/pipelines.js';
import { inProcessWorker, runCli, testServer, type RunningWorker } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';
import { pipelineHandle, workflowId } from '../../src/temporal/pipeline-contract.js';

/** The MERGE test selects a whole database (`db.*`), so new tables flow in: it gets its own. */
const MERGE_DB = `${MY_E2E_DB}_m_${RUN_ID}`;
const EVENTS = `a_events_${RUN_ID}`;
const MERGE = `e2e_my_merge_${RUN_ID}`;
const APPEND = `e2e_my_append_${RUN_ID}`;
const TQ = 'e2e-my-merge-append';
const WAIT_MS = 90_000;

async function duckRows(file: string, sql: string): Promise<string[][]> {
  const rows = await duckQuery(file, sql);
  return rows.map((r) => Object.values(r).map(asText));
}

async function duckColumns(file: string, table: string): Promise<Record<string, string>> {
  const rows = await duckQuery(
    file,
    `SELECT column_name AS c, data_type AS t FROM duckdb_columns() WHERE schema_name = '${MERGE_DB}' AND table_name = '${table}' ORDER BY column_index`,
  );
  return Object.fromEntries(rows.map((r) => [String(r.c), String(r.t)]));
}

describe('MySQL/MariaDB → DuckDB pipeline (real MariaDB, DuckDB and Temporal)', () => {
  let server: DevServer;
  let worker: RunningWorker;
  let my: Connection;
  let dir: string;

  before(async () => {
    my = await myConnect();
    await resetMyDatabase(my, MERGE_DB);
    await my.query(`DROP TABLE IF EXISTS ${EVENTS}`);
    dir = await tempDir('ducktail-e2e-my');
    server = await testServer();
    worker = await inProcessWorker(server, TQ);
  });

  after(async () => {
    await worker?.stop();
    await server?.stop();
    await my?.query(`DROP DATABASE IF EXISTS ${MERGE_DB}; DROP TABLE IF EXISTS ${MY_E2E_DB}.${EVENTS}`);
    await my?.end();
  });

  test('MERGE: snapshot, inserts, updates, deletes, then ADD / MODIFY / RENAME / DROP COLUMN and a new table mid-stream', { timeout: 240_000 }, async () => {
    const t = `${MERGE_DB}.orders`;
    await my.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, customer VARCHAR(40) NOT NULL, amount DECIMAL(12,2),
      note VARCHAR(20), qty INT, legacy VARCHAR(10))`);
    await my.query(`INSERT INTO ${t} SELECT seq, CONCAT('c', seq), seq * 1.25, NULL, seq, 'L' FROM mysql.seq_1_to_500`);
    const file = path.join(dir, 'merge.duckdb');
    const client = server.env.client;
    await startPipelineWorkflow(client, TQ, mysqlSpec(MERGE, [`${MERGE_DB}.*`], file), { batchesPerRun: 4 });
    await waitForStatus(client, MERGE, 'the pipeline prepared', (s) => s.checkpoint !== null, WAIT_MS);

    /** Waits until DuckDB's live rows equal the source's, column for column as text. */
    const converge = async (what: string, mySql: string, duckSql: string): Promise<void> => {
      const expected = await myTextRows(my, mySql);
      assert.ok(expected.length > 0, `${what}: the source has rows to compare`);
      let got: string[][] = [];
      await waitFor(what, async () => {
        got = await duckRows(file, duckSql).catch(() => []);
        return JSON.stringify(got) === JSON.stringify(expected) ? true : undefined;
      }, { timeoutMs: WAIT_MS }).catch(async (err: Error) => {
        const status = await pipelineStatus(client, MERGE);
        const diff = expected.filter((r, i) => JSON.stringify(r) !== JSON.stringify(got[i])).slice(0, 3);
        throw new Error(`${err.message}\nrows: source ${expected.length}, duckdb ${got.length}; first differing source rows ${JSON.stringify(diff)}\nstatus: ${JSON.stringify(status)}`);
      });
    };
    const orders = (cols: string) =>
      converge(
        `orders (${cols})`,
        `SELECT ${cols.split(', ').map((c) => `CAST(${c} AS CHAR)`).join(', ')} FROM ${t} ORDER BY id`,
        `SELECT ${cols.split(', ').map((c) => `CAST(${c} AS VARCHAR)`).join(', ')} FROM "${MERGE_DB}".orders WHERE NOT __deleted ORDER BY id`,
      );

    await orders('id, customer, amount, note, qty, legacy');
    const snap = await duckQuery(file, `SELECT count(*)::INT AS n FROM "${MERGE_DB}".orders WHERE __op = 'snapshot'`);
    assert.equal(snap[0]!.n, 500, 'every row came from the snapshot');

    await my.query(`INSERT INTO ${t} SELECT seq, CONCAT('new', seq), seq, 'x', 1, 'L' FROM mysql.seq_501_to_700`);
    await my.query(`UPDATE ${t} SET amount = amount + 1, note = 'upd' WHERE id % 10 = 0`);
    await my.query(`DELETE FROM ${t} WHERE id % 7 = 0`);
    await my.query(`BEGIN; UPDATE ${t} SET note = 'twice' WHERE id = 1; UPDATE ${t} SET note = 'thrice' WHERE id = 1; COMMIT`);
    await my.query(`UPDATE ${t} SET id = 5000, note = 'moved' WHERE id = 5`); // a changed key: the old one is deleted
    await orders('id, customer, amount, note, qty, legacy');
    const deleted = await duckQuery(file, `SELECT count(*)::INT AS n FROM "${MERGE_DB}".orders WHERE __deleted AND __op = 'delete'`);
    assert.equal(deleted[0]!.n, 101, 'deleted rows (and the old key of a moved row) stay as soft deletes');
    await my.query(`INSERT INTO ${t} VALUES (14, 'back', 1, 'revived', 1, 'L')`);
    await orders('id, customer, amount, note, qty, legacy');
    const revived = await duckRows(file, `SELECT __op, __deleted FROM "${MERGE_DB}".orders WHERE id = 14`);
    assert.deepEqual(revived, [['insert', 'false']], 'a re-inserted key revives');

    // ADD COLUMN (nullable, so the source's existing rows read NULL as DuckDB's do).
    await my.query(`ALTER TABLE ${t} ADD COLUMN priority INT NULL`);
    await my.query(`INSERT INTO ${t} (id, customer, amount, priority) VALUES (1001, 'p', 2, 9)`);
    await my.query(`UPDATE ${t} SET priority = 5 WHERE id = 2`);
    await orders('id, customer, amount, note, qty, legacy, priority');

    // MODIFY COLUMN: widened types follow (rows already loaded are converted, not rewritten by the source).
    // A type DuckDB cannot widen into (INT → VARCHAR) falls back to VARCHAR.
    await my.query(`ALTER TABLE ${t} MODIFY COLUMN qty BIGINT, MODIFY COLUMN amount DECIMAL(20,4), MODIFY COLUMN note VARCHAR(200),
      MODIFY COLUMN priority VARCHAR(10)`);
    await my.query(`UPDATE ${t} SET qty = 5000000000, amount = 123456789012.3456, note = REPEAT('n', 150) WHERE id = 3`);
    await my.query(`UPDATE ${t} SET priority = 'high' WHERE id = 1001`);
    await my.query(`INSERT INTO ${t} (id, customer, qty, amount) VALUES (1002, 'big', -9000000000000000000, -0.0001)`);
    await orders('id, customer, amount, note, qty, legacy, priority');
    const widened = await duckColumns(file, 'orders');
    assert.equal(widened.qty, 'BIGINT');
    assert.equal(widened.amount, 'DECIMAL(20,4)');
    assert.equal(widened.priority, 'VARCHAR');

    // RENAME COLUMN: the DuckDB column is renamed too, so rows not touched since keep their values.
    await my.query(`ALTER TABLE ${t} RENAME COLUMN note TO remark`);
    await my.query(`UPDATE ${t} SET remark = 'after-rename' WHERE id = 10`);
    await my.query(`INSERT INTO ${t} (id, customer, remark) VALUES (1100, 'r', 'fresh')`);
    await waitFor('RENAME COLUMN mid-stream', async () => {
      const got = await duckRows(file, `SELECT id, remark FROM "${MERGE_DB}".orders WHERE id IN (1, 10, 1100) ORDER BY id`).catch(() => []);
      return JSON.stringify(got) === JSON.stringify([['1', 'thrice'], ['10', 'after-rename'], ['1100', 'fresh']]) ? true : undefined;
    }, { timeoutMs: WAIT_MS });
    await orders('id, customer, amount, remark, qty, legacy, priority');

    // DROP COLUMN: kept in DuckDB, NULL for rows written from then on, untouched rows keep their values.
    const legacyBefore = await duckQuery(file, `SELECT count(legacy)::INT AS n FROM "${MERGE_DB}".orders`);
    await my.query(`ALTER TABLE ${t} DROP COLUMN legacy`);
    await my.query(`INSERT INTO ${t} (id, customer) VALUES (1200, 'no-legacy')`);
    await my.query(`UPDATE ${t} SET customer = 'after-drop' WHERE id = 20`);
    await orders('id, customer, amount, remark, qty, priority');
    const dropped = await duckRows(file, `SELECT id, legacy FROM "${MERGE_DB}".orders WHERE id IN (20, 1200) ORDER BY id`);
    assert.deepEqual(dropped, [['20', 'NULL'], ['1200', 'NULL']]);
    const legacyAfter = await duckQuery(file, `SELECT count(legacy)::INT AS n FROM "${MERGE_DB}".orders`);
    assert.equal(legacyAfter[0]!.n, Number(legacyBefore[0]!.n) - 1, 'only the updated row lost its dropped-column value');

    // A new table in the selected database.
    await my.query(`CREATE TABLE ${MERGE_DB}.customers (id INT PRIMARY KEY, name VARCHAR(20))`);
    await my.query(`INSERT INTO ${MERGE_DB}.customers VALUES (1, 'ada'), (2, 'grace'), (3, 'edsger')`);
    await my.query(`UPDATE ${MERGE_DB}.customers SET name = 'barbara' WHERE id = 3`);
    await my.query(`DELETE FROM ${MERGE_DB}.customers WHERE id = 1`);
    await converge(
      'a new table',
      `SELECT CAST(id AS CHAR), name FROM ${MERGE_DB}.customers ORDER BY id`,
      `SELECT CAST(id AS VARCHAR), name FROM "${MERGE_DB}".customers WHERE NOT __deleted ORDER BY id`,
    );

    await my.query(`TRUNCATE ${MERGE_DB}.customers`);
    await my.query(`INSERT INTO ${MERGE_DB}.customers VALUES (4, 'after truncate')`);
    await waitFor('TRUNCATE soft-deletes every row', async () => {
      const got = await duckRows(file, `SELECT id, __op, __deleted FROM "${MERGE_DB}".customers ORDER BY id`).catch(() => []);
      const want = [['1', 'delete', 'true'], ['2', 'truncate', 'true'], ['3', 'truncate', 'true'], ['4', 'insert', 'false']];
      return JSON.stringify(got) === JSON.stringify(want) ? true : undefined;
    }, { timeoutMs: WAIT_MS });

    const columns = await duckColumns(file, 'orders');
    assert.deepEqual(Object.keys(columns), [
      'id', 'customer', 'amount', 'remark', 'qty', 'legacy', '__deleted', '__op', '__position', '__commit_ts', 'priority',
    ]);
    const status = await pipelineStatus(client, MERGE);
    assert.equal(status.lastError, null);
    assert.equal(status.phase, 'streaming');
    assert.ok(status.runs > 1, `continued as new with the MySQL position in its state (runs ${status.runs})`);

    const handle = pipelineHandle(client, MERGE);
    await handle.cancel();
    const final = (await handle.result()) as { phase: string };
    assert.equal(final.phase, 'stopped', 'cancel is a graceful stop');
    // Histories recorded here are replayed by test/integration/workflow-replay.test.ts.
    if (process.env.DUCKTAIL_RECORD_HISTORY === '1') {
      const cli = findTemporalCli();
      assert.ok(cli !== undefined, 'recording needs the temporal CLI (npm run setup)');
      const shown = execFileSync(cli, ['workflow', 'show', '--workflow-id', workflowId(MERGE), '--address', server.address, '--output', 'json']);
      await writeFile(new URL('../fixtures/histories/pipeline-mysql-merge-final-run.json', import.meta.url), shown);
    }
  });

  test('APPEND: one row per change (snapshot, I/U/D, TRUNCATE, ADD/DROP COLUMN), nothing duplicated or missing', { timeout: 240_000 }, async () => {
    const t = `${MY_E2E_DB}.${EVENTS}`;
    await my.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, v VARCHAR(20))`);
    await my.query(`INSERT INTO ${t} SELECT seq, CONCAT('v', seq) FROM mysql.seq_1_to_300`);
    const file = path.join(dir, 'append.duckdb');
    const client = server.env.client;
    await startPipelineWorkflow(client, TQ, mysqlSpec(APPEND, [t], file, { mode: 'append' }));
    // A TRUNCATE or ALTER while the copy runs would start it over (the copy gives way to it):
    // the changes come after the copy.
    await waitForStatus(client, APPEND, 'the snapshot is copied', (s) => s.checkpoint !== null && s.phase === 'streaming', WAIT_MS);
    await my.query(`UPDATE ${t} SET v = 'u' WHERE id <= 50`);
    await my.query(`DELETE FROM ${t} WHERE id > 280`);
    await my.query(`INSERT INTO ${t} VALUES (1000, 'late')`);
    await my.query(`TRUNCATE ${t}`);
    await my.query(`ALTER TABLE ${t} ADD COLUMN extra VARCHAR(10)`);
    await my.query(`INSERT INTO ${t} VALUES (2000, 'with', 'e')`);
    await my.query(`ALTER TABLE ${t} DROP COLUMN extra`);
    await my.query(`INSERT INTO ${t} VALUES (2001, 'without')`);
    const expected = { snapshot: 300, update: 50, delete: 20, insert: 3, truncate: 1 };
    let got: Record<string, number> = {};
    const counts = await waitFor('every change appended', async () => {
      const rows = await duckQuery(file, `SELECT __op AS op, count(*)::INT AS n FROM "${MY_E2E_DB}".${EVENTS} GROUP BY 1`).catch(() => []);
      got = Object.fromEntries(rows.map((r) => [String(r.op), Number(r.n)]));
      return JSON.stringify(Object.keys(expected).map((k) => got[k])) === JSON.stringify(Object.values(expected)) ? got : undefined;
    }, { timeoutMs: WAIT_MS }).catch(async (err: Error) => {
      const status = await pipelineStatus(client, APPEND);
      throw new Error(`${err.message}\nappended: ${JSON.stringify(got)}\nstatus: ${JSON.stringify(status)}`);
    });
    assert.deepEqual(counts, expected);
    await new Promise((r) => setTimeout(r, 1500)); // a late duplicate would show up now
    const dupes = await duckQuery(
      file,
      `SELECT count(*)::INT AS n FROM (SELECT __position, __seq FROM "${MY_E2E_DB}".${EVENTS} WHERE __op <> 'snapshot' GROUP BY ALL HAVING count(*) > 1)`,
    );
    assert.equal(dupes[0]!.n, 0, 'no event appended twice');
    const total = await duckQuery(file, `SELECT count(*)::INT AS n FROM "${MY_E2E_DB}".${EVENTS}`);
    assert.equal(total[0]!.n, 374);
    const updated = await duckRows(file, `SELECT id, v FROM "${MY_E2E_DB}".${EVENTS} WHERE __op = 'update' ORDER BY id LIMIT 2`);
    assert.deepEqual(updated, [['1', 'u'], ['2', 'u']]);
    const deletedImage = await duckRows(file, `SELECT id, v FROM "${MY_E2E_DB}".${EVENTS} WHERE __op = 'delete' ORDER BY id LIMIT 1`);
    assert.deepEqual(deletedImage, [['281', 'v281']], 'a delete carries the row it removed');
    const altered = await duckRows(file, `SELECT id, v, extra FROM "${MY_E2E_DB}".${EVENTS} WHERE id >= 2000 ORDER BY id`);
    assert.deepEqual(altered, [['2000', 'with', 'e'], ['2001', 'without', 'NULL']]);
    const order = await duckRows(
      file,
      `SELECT __op FROM "${MY_E2E_DB}".${EVENTS} WHERE __op IN ('insert', 'truncate')
        ORDER BY CAST(regexp_extract(__position, '\\.(\\d+):', 1) AS INT), CAST(regexp_extract(__position, ':(\\d+)$', 1) AS BIGINT), __seq`,
    );
    assert.deepEqual(order.map((r) => r[0]), ['insert', 'truncate', 'insert', 'insert']);
    const handle = pipelineHandle(client, APPEND);
    await handle.cancel();
    await handle.result();
  });
});

describe('ducktail start: MySQL preflight errors (no Temporal server needed)', () => {
  const KEYED = `pf_keyed_${RUN_ID}`;
  const KEYLESS = `pf_keyless_${RUN_ID}`;
  let my: Connection;
  let dir: string;

  before(async () => {
    my = await myConnect();
    await my.query(`CREATE TABLE ${KEYED} (id INT PRIMARY KEY, v INT)`);
    await my.query(`CREATE TABLE ${KEYLESS} (v INT, w VARCHAR(10))`);
    dir = await tempDir('ducktail-e2e-my-preflight');
  });

  after(async () => {
    await my?.query(`DROP TABLE IF EXISTS ${KEYED}, ${KEYLESS}`);
    await my?.end();
  });

  async function start(tables: string[], extra: Record<string, unknown> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const file = path.join(dir, `ducktail-${tables.length}-${Object.keys(extra).join('-') || 'plain'}.yaml`);
    await writeFile(
      file,
      stringify({
        // A port nothing listens on: preflight must fail before Temporal is ever contacted.
        temporal: { address: '127.0.0.1:1', taskQueue: 'e2e-my-preflight' },
        pipelines: [
          {
            name: `e2e_my_preflight_${RUN_ID}`,
            source: { kind: 'mysql', host: MY_HOST, port: MY_PORT, user: MY_USER, tables },
            destination: { path: 'preflight.duckdb' },
            ...extra,
          },
        ],
      }),
    );
    return runCli(['--config', file, 'start']);
  }

  test('a missing table: exit 1, the table named, the fix given', async () => {
    const missing = `${MY_E2E_DB}.no_such_table_e2e`;
    const { code, stdout, stderr } = await start([`${MY_E2E_DB}.${KEYED}`, missing]);
    assert.equal(code, 1, `exit code (stdout ${stdout}, stderr ${stderr})`);
    assert.match(stderr, new RegExp(`^error: table ${missing} does not exist in the source database at ${MY_HOST}:${MY_PORT}`, 'm'));
    assert.match(stderr, /fix: create it or remove it from source\.tables/);
    assert.doesNotMatch(stdout, /started/);
  });

  test('a table without primary key in merge mode: exit 1, the table named, the fix given', async () => {
    const keyless = `${MY_E2E_DB}.${KEYLESS}`;
    const { code, stdout, stderr } = await start([`${MY_E2E_DB}.${KEYED}`, keyless], { mode: 'merge' });
    assert.equal(code, 1, `exit code (stdout ${stdout}, stderr ${stderr})`);
    assert.match(stderr, new RegExp(`^error: ${keyless} has no primary key, so it cannot be merged`, 'm'));
    assert.match(stderr, new RegExp(`fix: add a primary key to ${keyless}, or set keyless: append \\(or mode: append\\)`));
    assert.doesNotMatch(stdout, /started/);
  });
});
