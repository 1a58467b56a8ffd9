import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'mysql2/promise';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { duckQuery } from '../helpers/duckdb.js';
import { asText, MY_E2E_DB, myConnect, mysqlSpec, myTextRows, RUN_ID } from '../helpers/mysql.js';
import { pipelineStatus, startPipelineWorkflow, tempDir, waitForStatus } from '../helpers/pipelines.js';
import { inProcessWorker, testServer, type RunningWorker } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';
import { pipelineHandle } from '../../src/temporal/pipeline-contract.js';

const TQ = 'e2e-my-types';
const TABLE = `t_types_${RUN_ID}`;
const WAIT_MS = 90_000;

/**
 * Column → [MariaDB definition, expected DuckDB type, MariaDB expression, DuckDB expression]. Both
 * expressions give the same canonical text for an exactly preserved value: numbers as decimal
 * text, timestamps as epoch microseconds, bytes as upper-case hex, a SET as its comma list.
 */
const COLUMNS: Record<string, [string, string, string, string]> = {
  ti: ['TINYINT', 'SMALLINT', 'CAST(ti AS CHAR)', 'CAST(ti AS VARCHAR)'],
  tu: ['TINYINT UNSIGNED', 'USMALLINT', 'CAST(tu AS CHAR)', 'CAST(tu AS VARCHAR)'],
  si: ['SMALLINT', 'SMALLINT', 'CAST(si AS CHAR)', 'CAST(si AS VARCHAR)'],
  i: ['INT', 'INTEGER', 'CAST(i AS CHAR)', 'CAST(i AS VARCHAR)'],
  iu: ['INT UNSIGNED', 'UINTEGER', 'CAST(iu AS CHAR)', 'CAST(iu AS VARCHAR)'],
  bi: ['BIGINT', 'BIGINT', 'CAST(bi AS CHAR)', 'CAST(bi AS VARCHAR)'],
  bu: ['BIGINT UNSIGNED', 'UBIGINT', 'CAST(bu AS CHAR)', 'CAST(bu AS VARCHAR)'],
  d: ['DECIMAL(38,10)', 'DECIMAL(38,10)', 'CAST(d AS CHAR)', 'CAST(d AS VARCHAR)'],
  dt: ['DATE', 'DATE', 'CAST(dt AS CHAR)', 'CAST(dt AS VARCHAR)'],
  dt6: ['DATETIME(6)', 'TIMESTAMP', "CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', dt6) AS CHAR)", 'CAST(epoch_us(dt6) AS VARCHAR)'],
  ts6: ['TIMESTAMP(6) NULL', 'TIMESTAMP WITH TIME ZONE', 'CAST(CAST(UNIX_TIMESTAMP(ts6) * 1000000 AS DECIMAL(20,0)) AS CHAR)', 'CAST(epoch_us(ts6) AS VARCHAR)'],
  vc: ['VARCHAR(100)', 'VARCHAR', 'vc', 'vc'],
  bl: ['BLOB', 'BLOB', 'HEX(bl)', 'hex(bl)'],
  vb: ['VARBINARY(16)', 'BLOB', 'HEX(vb)', 'hex(vb)'],
  b: ['BIT(10)', 'UBIGINT', 'CAST(b + 0 AS CHAR)', 'CAST(b AS VARCHAR)'],
  b64: ['BIT(64)', 'UBIGINT', 'CAST(b64 + 0 AS CHAR)', 'CAST(b64 AS VARCHAR)'],
  e: ["ENUM('x','y','z')", 'VARCHAR', 'CAST(e AS CHAR)', 'e'],
  s: ["SET('a','b','c')", 'VARCHAR[]', 'CAST(s AS CHAR)', "array_to_string(s, ',')"],
  j: ['JSON', 'JSON', 'CAST(j AS CHAR)', 'CAST(j AS VARCHAR)'],
  u: ['UUID', 'UUID', 'CAST(u AS CHAR)', 'CAST(u AS VARCHAR)'],
  i6: ['INET6', 'VARCHAR', 'CAST(i6 AS CHAR)', 'i6'],
  // beyond the list in the issue: the remaining common types
  mu: ['MEDIUMINT UNSIGNED', 'UINTEGER', 'CAST(mu AS CHAR)', 'CAST(mu AS VARCHAR)'],
  f: ['FLOAT', 'FLOAT', 'CAST(f AS CHAR)', 'CAST(f AS VARCHAR)'],
  dbl: ['DOUBLE', 'DOUBLE', 'CAST(dbl AS CHAR)', 'CAST(dbl AS VARCHAR)'],
  c: ['CHAR(5)', 'VARCHAR', 'c', 'c'],
  tx: ['TEXT', 'VARCHAR', 'tx', 'tx'],
  tm: ['TIME(6)', 'INTERVAL', 'CAST(CAST(TIME_TO_SEC(tm) * 1000000 AS DECIMAL(20,0)) AS CHAR)', 'CAST(CAST(round(epoch(tm) * 1000000) AS BIGINT) AS VARCHAR)'],
  yr: ['YEAR', 'SMALLINT', 'CAST(yr + 0 AS CHAR)', 'CAST(yr AS VARCHAR)'],
  i4: ['INET4', 'VARCHAR', 'CAST(i4 AS CHAR)', 'i4'],
};
const NAMES = Object.keys(COLUMNS);

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex');
const BIG_JSON = '{"a": [1, 2.50, "x", null, true], "big": 18446744073709551615, "s": "é ✓ 😀 \\" \\\\ \\n", "o": {}}';

/** Rows 1–4: maxima, minima, ordinary values, all NULL. Values as SQL literals, in NAMES order. */
const ROWS: Record<number, string[]> = {
  1: [
    '127', '255', '32767', '2147483647', '4294967295', '9223372036854775807', '18446744073709551615',
    "'9999999999999999999999999999.9999999999'", "'9999-12-31'", "'9999-12-31 23:59:59.999999'", "'2038-01-19 03:14:07.999999'",
    "'héllo ✓ 😀 \"dq\" ''sq'' \\\\ tab\\t nl\\n end'", `x'${ALL_BYTES}'`, "x'00ff00ff00'", "b'1111111111'", `b'${'1'.repeat(64)}'`,
    "'z'", "'a,b,c'", `'${BIG_JSON.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`, "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
    "'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'",
    '16777215', '1.1', '3.141592653589793', "'abcde'", "REPEAT('ü✓', 10000)", "'838:59:59.000000'", '2155', "'255.255.255.255'",
  ],
  2: [
    '-128', '0', '-32768', '-2147483648', '0', '-9223372036854775808', '0',
    "'-9999999999999999999999999999.9999999999'", "'1000-01-01'", "'1000-01-01 00:00:00.000000'", "'1970-01-01 00:00:01.000001'",
    "''", "x''", "x''", "b'0'", "b'0'", "'x'", "''", "'[]'", "'00000000-0000-0000-0000-000000000000'", "'::'",
    '0', '-0.5', '-1234.5678', "''", "''", "'-838:59:59.000000'", '0', "'0.0.0.0'",
  ],
  3: [
    '0', '1', '-1', '42', '1', '-1', '9007199254740993',
    "'0.0000000001'", "'2024-02-29'", "'2024-02-03 04:05:06.654321'", "'2024-02-03 04:05:06.123456'",
    "'plain'", "x'00'", "x'ff'", "b'1010000001'", `b'1${'0'.repeat(63)}'`, "'y'", "'b'", "'{\"k\":\"v\"}'", 'UUID()', "'::ffff:10.0.0.1'",
    '8388608', '0.1', '0.1', "'ab'", "'x'", "'-00:00:00.000001'", '1901', "'10.0.0.1'",
  ],
  4: NAMES.map(() => 'NULL'),
};
/** Applied after the pipeline prepared: the update path, on the row that was NULL. */
const UPDATE_4 = [
  '-7', '7', '-300', '-123456', '3000000000', '-4611686018427387904', '18446744073709551614',
  "'-0.5000000001'", "'1999-12-31'", "'1969-12-31 23:59:59.999999'", "'2001-09-09 01:46:40.000001'",
  "'updated'", "x'ff00'", "x'00'", "b'1'", `b'0${'1'.repeat(63)}'`, "'x'", "'a,c'", "'[1, {\"n\": -0.0}]'",
  "'12345678-1234-5678-1234-567812345678'", "'2001:db8::ff00:42:8329'",
  '1', '100.25', '-2.5', "'z'", "'multi\\nline'", "'12:34:56.789012'", '1999', "'192.168.0.1'",
];

function insertRow(id: number, values: string[]): string {
  return `INSERT INTO ${TABLE} (id, ${NAMES.join(', ')}) VALUES (${id}, ${values.join(', ')})`;
}

describe('MySQL/MariaDB value types through the whole pipeline (MariaDB → Temporal → DuckDB)', () => {
  let server: DevServer;
  let worker: RunningWorker;
  let my: Connection;
  let dir: string;

  before(async () => {
    my = await myConnect();
    await my.query(`DROP TABLE IF EXISTS ${TABLE}`);
    const defs = NAMES.map((n) => `${n} ${COLUMNS[n]![0]}`).join(', ');
    await my.query(`CREATE TABLE ${TABLE} (id INT PRIMARY KEY, ${defs}) DEFAULT CHARSET = utf8mb4`);
    for (const [id, values] of Object.entries(ROWS)) await my.query(insertRow(Number(id), values));
    dir = await tempDir('ducktail-e2e-my-types');
    server = await testServer();
    worker = await inProcessWorker(server, TQ);
  });

  after(async () => {
    await worker?.stop();
    await server?.stop();
    await my?.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await my?.end();
  });

  test('every type round-trips exactly, from the snapshot and from the binlog, in MERGE and APPEND', { timeout: 240_000 }, async () => {
    const client = server.env.client;
    const files = { merge: path.join(dir, 'merge.duckdb'), append: path.join(dir, 'append.duckdb') };
    const table = `${MY_E2E_DB}.${TABLE}`;
    for (const mode of ['merge', 'append'] as const) {
      await startPipelineWorkflow(client, TQ, mysqlSpec(`e2e_my_types_${mode}_${RUN_ID}`, [table], files[mode], { mode }));
    }
    for (const mode of ['merge', 'append'] as const) {
      await waitForStatus(client, `e2e_my_types_${mode}_${RUN_ID}`, 'the pipeline prepared', (s) => s.checkpoint !== null, WAIT_MS);
    }
    // Streamed: copies of rows 1–4 as 11–14, one UPDATE of every column, one DELETE.
    await my.query(`INSERT INTO ${TABLE} SELECT id + 10, ${NAMES.join(', ')} FROM ${TABLE}`);
    await my.query(`UPDATE ${TABLE} SET ${NAMES.map((n, i) => `${n} = ${UPDATE_4[i]}`).join(', ')} WHERE id = 4`);
    await my.query(`INSERT INTO ${TABLE} (id, vc) VALUES (20, 'deleted soon')`);
    await my.query(`DELETE FROM ${TABLE} WHERE id = 20`);

    const mySelect = `SELECT CAST(id AS CHAR), ${NAMES.map((n) => COLUMNS[n]![2]).join(', ')} FROM ${TABLE} ORDER BY id`;
    const expected = await myTextRows(my, mySelect);
    assert.equal(expected.length, 8);
    const duckSelect = `SELECT CAST(id AS VARCHAR), ${NAMES.map((n) => COLUMNS[n]![3]).join(', ')} FROM "${MY_E2E_DB}".${TABLE}`;
    const views = {
      merge: `${duckSelect} WHERE NOT __deleted ORDER BY id`,
      // every row's last image: row 4's snapshot image was superseded by its update, row 20 by its delete
      append: `${duckSelect} WHERE NOT (id = 4 AND __op = 'snapshot') AND id <> 20 ORDER BY id`,
    };

    for (const mode of ['merge', 'append'] as const) {
      await waitFor(`${mode}: all rows loaded`, async () => {
        // the DELETE of row 20 is the last change: once it is in, everything before it is
        const rows = await duckQuery(
          files[mode],
          `SELECT count(*)::INT AS n, count(*) FILTER (WHERE __op = 'delete')::INT AS deletes FROM "${MY_E2E_DB}".${TABLE}`,
        ).catch(() => []);
        return rows[0]?.deletes === 1 && rows[0]?.n === (mode === 'merge' ? 9 : 11) ? true : undefined;
      }, { timeoutMs: WAIT_MS }).catch(async (err: Error) => {
        throw new Error(`${err.message}\nstatus: ${JSON.stringify(await pipelineStatus(client, `e2e_my_types_${mode}_${RUN_ID}`))}`);
      });
      const got = (await duckQuery(files[mode], views[mode])).map((r) => Object.values(r).map(asText));
      assert.equal(got.length, expected.length, `${mode}: row count`);
      for (let r = 0; r < expected.length; r++) {
        const want = expected[r]!;
        const have = got[r]!;
        ['id', ...NAMES].forEach((name, c) => {
          assert.equal(have[c], want[c], `${mode}: row ${want[0]} column ${name} (${c === 0 ? 'INT' : COLUMNS[name]![0]})`);
        });
      }

      const types = await duckQuery(
        files[mode],
        `SELECT column_name AS c, data_type AS t FROM duckdb_columns() WHERE schema_name = '${MY_E2E_DB}' AND table_name = '${TABLE}'`,
      );
      const byName = Object.fromEntries(types.map((t) => [String(t.c), String(t.t)]));
      for (const name of NAMES) assert.equal(byName[name], COLUMNS[name]![1], `${mode}: DuckDB type of ${name}`);
    }

    const deletedImage = await duckQuery(files.append, `SELECT vc FROM "${MY_E2E_DB}".${TABLE} WHERE id = 20 AND __op = 'delete'`);
    assert.deepEqual(deletedImage, [{ vc: 'deleted soon' }], 'APPEND: a delete carries the row it removed');
    for (const mode of ['merge', 'append'] as const) {
      const handle = pipelineHandle(client, `e2e_my_types_${mode}_${RUN_ID}`);
      await handle.cancel();
      await handle.result();
    }
  });
});
