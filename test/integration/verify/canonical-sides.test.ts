import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Connection } from 'mysql2/promise';
import type pg from 'pg';
import type { ColumnClass, SideColumn } from '../../../src/verify/column-class.js';
import { Params } from '../../../src/verify/dialect.js';
import { duckdbDialect } from '../../../src/verify/dialect-duckdb.js';
import { jsonText } from '../../../src/destinations/duckdb/duckdb-sql.js';
import { openMysqlVerifySource } from '../../../src/verify/mysql-verify-source.js';
import { openPostgresVerifySource } from '../../../src/verify/postgres-verify-source.js';
import { rangeWhere, type TableSql } from '../../../src/verify/range-sql.js';
import type { VerifySource } from '../../../src/verify/verify-source.js';
import { floatText } from '../../helpers/canonical.js';
import { myConnect, mysqlSpec, resetMyDatabase } from '../../helpers/mysql.js';
import { pgSpec } from '../../helpers/pipelines.js';
import { ensurePgDatabase, pgConnect } from '../../helpers/postgres.js';

const PG_DB = 'ducktail_verify';
const MY_DB = 'ducktail_verify_canon';

/**
 * One value of one class as a source holds it and as the pipeline stages it into DuckDB, with the
 * canonical text every dialect must give for it (undefined: only that all sides agree).
 */
interface Case {
  cls: ColumnClass;
  type: string;
  literal: string;
  duckType: string;
  duckLiteral: string;
  expect?: string | null;
}

const c = (cls: ColumnClass['kind'] | ColumnClass, type: string, literal: string, duckType: string, duckLiteral: string, expect?: string | null): Case => ({
  cls: typeof cls === 'string' ? ({ kind: cls } as ColumnClass) : cls,
  type, literal, duckType, duckLiteral, expect,
});

const TEXT = "'héllo ✓ 😀 ''q'' \\ tab	end'";
const DUCK_TEXT = "'héllo ✓ 😀 ''q'' \\ tab	end'";
const epochUs = (iso: string): string => String(BigInt(Date.parse(iso)) * 1000n);

const PG_CASES: Case[] = [
  c('int', 'bigint', '9223372036854775807', 'BIGINT', '9223372036854775807', '9223372036854775807'),
  c('int', 'smallint', '-32768', 'SMALLINT', '-32768', '-32768'),
  c({ kind: 'decimal', scale: 2 }, 'numeric(12,2)', "'-1.5'", 'DECIMAL(12,2)', "'-1.5'", '-1.50'),
  c({ kind: 'decimal', scale: 10 }, 'numeric(38,10)', "'-9999999999999999999999999999.9999999999'", 'DECIMAL(38,10)', "'-9999999999999999999999999999.9999999999'"),
  c('text', 'numeric', "'1.500'", 'VARCHAR', "'1.500'", '1.500'),
  c('float', 'double precision', "'0.1'", 'DOUBLE', "'0.1'", floatText(0.1)),
  c('float', 'double precision', "'1e20'", 'DOUBLE', "'1e20'", floatText(1e20)),
  c('float', 'double precision', "'-2.5'", 'DOUBLE', "'-2.5'", floatText(-2.5)),
  c('float', 'double precision', "'3'", 'DOUBLE', "'3'", floatText(3)),
  c('float', 'double precision', "'1e-300'", 'DOUBLE', "'1e-300'", floatText(1e-300)),
  c('float', 'double precision', "'NaN'", 'DOUBLE', "'nan'", 'nan'),
  c('float', 'double precision', "'-Infinity'", 'DOUBLE', "'-inf'", '-inf'),
  c('float', 'real', "'1.1'", 'FLOAT', "'1.1'", floatText(Math.fround(1.1))),
  c('bool', 'boolean', 'true', 'BOOLEAN', 'true', 'true'),
  c('text', 'text', TEXT, 'VARCHAR', DUCK_TEXT),
  c('text', 'varchar(5)', "''", 'VARCHAR', "''", ''),
  c('char', 'char(6)', "'ab'", 'VARCHAR', "'ab    '", 'ab'),
  c('json', 'json', `'{"a": 1,  "b": [1, 2]}'`, 'JSON', `'{"a": 1,  "b": [1, 2]}'`, '{"a": 1,  "b": [1, 2]}'),
  c('json', 'jsonb', `'{"z":1,"a":[true,null]}'`, 'JSON', `'{"a": [true, null], "z": 1}'`, '{"a": [true, null], "z": 1}'),
  c('uuid', 'uuid', "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", 'UUID', "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
  c('bytes', 'bytea', "'\\x00ff10'", 'BLOB', "from_hex('00ff10')", '00ff10'),
  c('date', 'date', "'1969-12-31'", 'DATE', "'1969-12-31'", '-1'),
  c('date', 'date', "'infinity'", 'DATE', "'infinity'", 'inf'),
  c('timestamp', 'timestamp', "'2024-02-29 23:59:59.999999'", 'TIMESTAMP', "'2024-02-29 23:59:59.999999'", String(BigInt(Date.UTC(2024, 1, 29, 23, 59, 59)) * 1000n + 999999n)),
  c('timestamp', 'timestamp', "'1969-12-31 23:59:59.999999'", 'TIMESTAMP', "'1969-12-31 23:59:59.999999'", '-1'),
  c('timestamptz', 'timestamptz', "'2024-01-02 03:04:05.000006+02'", 'TIMESTAMPTZ', "'2024-01-02 01:04:05.000006+00'", String(BigInt(epochUs('2024-01-02T01:04:05Z')) + 6n)),
  c('time', 'time', "'23:59:59.999999'", 'TIME', "'23:59:59.999999'", '86399999999'),
  c('text', 'ducktail_verify_mood', "'happy'", 'VARCHAR', "'happy'", 'happy'),
  c('text', 'inet', "'10.0.0.1'", 'VARCHAR', "'10.0.0.1'", '10.0.0.1'),
];

const MY_CASES: Case[] = [
  c('int', 'bigint', '-9223372036854775808', 'BIGINT', '-9223372036854775808', '-9223372036854775808'),
  c('int', 'bigint unsigned', '18446744073709551615', 'UBIGINT', '18446744073709551615', '18446744073709551615'),
  c('int', 'tinyint(1)', '1', 'SMALLINT', '1', '1'),
  c('int', 'bit(10)', "b'1010000001'", 'UBIGINT', '641', '641'),
  c('int', 'year', '2155', 'SMALLINT', '2155', '2155'),
  c({ kind: 'decimal', scale: 2 }, 'decimal(12,2)', "'-1.5'", 'DECIMAL(12,2)', "'-1.5'", '-1.50'),
  c({ kind: 'decimal', scale: 10 }, 'decimal(38,10)', "'9999999999999999999999999999.9999999999'", 'DECIMAL(38,10)', "'9999999999999999999999999999.9999999999'"),
  c('float', 'double', '0.1', 'DOUBLE', "'0.1'", floatText(0.1)),
  c('float', 'double', '1e20', 'DOUBLE', "'1e20'", floatText(1e20)),
  c('float', 'double', '-2.5', 'DOUBLE', "'-2.5'", floatText(-2.5)),
  c('float', 'double', '1e-300', 'DOUBLE', "'1e-300'", floatText(1e-300)),
  c('float', 'float', '1.1', 'FLOAT', "'1.1'", floatText(Math.fround(1.1))),
  c('text', 'varchar(100)', TEXT.replaceAll('\\', '\\\\'), 'VARCHAR', DUCK_TEXT),
  c('text', 'text CHARACTER SET latin1', "'café'", 'VARCHAR', "'café'", 'café'),
  c('char', 'char(6)', "'ab'", 'VARCHAR', "'ab'", 'ab'),
  c('json', 'json', `'{"a": 1,  "b": [1, 2]}'`, 'JSON', `'{"a": 1,  "b": [1, 2]}'`, '{"a": 1,  "b": [1, 2]}'),
  c('uuid', 'uuid', "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", 'UUID', "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
  c('bytes', 'varbinary(10)', "x'00ff10'", 'BLOB', "from_hex('00ff10')", '00ff10'),
  c('bytes', 'blob', "x''", 'BLOB', "from_hex('')", ''),
  c('date', 'date', "'1969-12-31'", 'DATE', "'1969-12-31'", '-1'),
  c('date', 'date', "'0000-00-00'", 'DATE', 'NULL', null),
  c('timestamp', 'datetime(6)', "'1969-12-31 23:59:59.999999'", 'TIMESTAMP', "'1969-12-31 23:59:59.999999'", '-1'),
  c('timestamptz', 'timestamp(6) NULL', "'2038-01-19 03:14:07.999999'", 'TIMESTAMPTZ', "'2038-01-19 03:14:07.999999+00'", String(BigInt(epochUs('2038-01-19T03:14:07Z')) + 999999n)),
  c('time', 'time(6)', "'-838:59:59.000000'", 'INTERVAL', "'-838:59:59'", String(-3020399n * 1000000n)),
  c('time', 'time(6)', "'-00:00:00.000001'", 'INTERVAL', "'-00:00:00.000001'", '-1'),
  c('text', "enum('x','y')", "'y'", 'VARCHAR', "'y'", 'y'),
  c('set', "set('a','b','c')", "'a,c'", 'VARCHAR[]', "['a','c']", 'a,c'),
  c('text', 'inet6', "'::ffff:10.0.0.1'", 'VARCHAR', "'::ffff:10.0.0.1'", '::ffff:10.0.0.1'),
];

const KEY_CASES: { cls: ColumnClass; pg: string; my: string; duck: string; values: [string, string][] }[] = [
  // [source literal, DuckDB literal] per row; each side must order and print them alike
  { cls: { kind: 'text' }, pg: 'text', my: 'varchar(20) COLLATE utf8mb4_general_ci', duck: 'VARCHAR', values: ['B', 'a', 'é', 'Z', 'ab', 'a b', '😀', '', 'aa', 'A'].map((v) => [`'${v}'`, `'${v}'`]) },
  { cls: { kind: 'int' }, pg: 'bigint', my: 'bigint', duck: 'BIGINT', values: ['10', '9', '-2', '0', '100', '-100', '3', '4', '5', '6'].map((v) => [v, v]) },
  { cls: { kind: 'decimal', scale: 2 }, pg: 'numeric(10,2)', my: 'decimal(10,2)', duck: 'DECIMAL(10,2)', values: ['1.5', '-1.5', '10', '9.99', '0', '0.01', '-0.01', '2', '3', '4'].map((v) => [v, v]) },
  { cls: { kind: 'uuid' }, pg: 'uuid', my: 'uuid', duck: 'UUID', values: ['ffffffff-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000001', '7fffffff-0000-0000-0000-000000000000', '80000000-0000-0000-0000-000000000000', '12345678-1234-1234-1234-123456789abc', '12345678-1234-1234-1234-023456789abc', 'a0000000-0000-1000-8000-000000000000', 'b0000000-0000-1000-8000-000000000000', 'c0000000-0000-1000-8000-000000000000', 'd0000000-0000-1000-8000-000000000000'].map((v) => [`'${v}'`, `'${v}'`]) },
  { cls: { kind: 'timestamp' }, pg: 'timestamp', my: 'datetime(6)', duck: 'TIMESTAMP', values: ['1969-12-31 23:59:59.999999', '2024-01-01 00:00:00', '2024-01-01 00:00:00.000001', '1970-01-01 00:00:00', '2000-02-29 12:00:00.5', '1999-12-31 23:59:59', '2038-01-19 03:14:08', '1000-01-01 00:00:00', '9999-12-31 23:59:59.999999', '2024-06-01 10:00:00'].map((v) => [`'${v}'`, `'${v}'`]) },
  { cls: { kind: 'date' }, pg: 'date', my: 'date', duck: 'DATE', values: ['2024-01-01', '1969-12-31', '1970-01-01', '2000-02-29', '1000-01-01', '9999-12-31', '2024-01-02', '2023-12-31', '1999-01-01', '2001-01-01'].map((v) => [`'${v}'`, `'${v}'`]) },
  { cls: { kind: 'bytes' }, pg: 'bytea', my: 'varbinary(10)', duck: 'BLOB', values: ['', '00', '0000', 'ff', '01', '0100', 'fe', '7f', '80', '0001'].map((v) => [`decode('${v}', 'hex')`, `from_hex('${v}')`]) },
];

/** Source literals in MySQL: `decode(x, 'hex')` is UNHEX there. */
const myLiteral = (lit: string): string => lit.replace(/^decode\('([0-9a-f]*)', 'hex'\)$/, "UNHEX('$1')");

describe('canonical texts, key texts and key order agree across PostgreSQL, MariaDB and DuckDB', () => {
  let pgc: pg.Client;
  let my: Connection;
  let duck: DuckDBInstance;
  let dc: DuckDBConnection;
  let pgSource: VerifySource;
  let mySource: VerifySource;
  const d = duckdbDialect();

  before(async () => {
    await ensurePgDatabase(PG_DB);
    pgc = await pgConnect(PG_DB);
    await pgc.query('DROP SCHEMA IF EXISTS canon CASCADE; CREATE SCHEMA canon');
    await pgc.query("DROP TYPE IF EXISTS ducktail_verify_mood; CREATE TYPE ducktail_verify_mood AS ENUM ('sad', 'happy')");
    my = await myConnect(MY_DB);
    await resetMyDatabase(my, MY_DB);
    await my.query(`USE ${MY_DB}`);
    duck = await DuckDBInstance.create(':memory:');
    dc = await duck.connect();
    pgSource = await openPostgresVerifySource(pgSpec('canon', PG_DB, ['canon.*'], '/nonexistent.duckdb').source as never, undefined);
    mySource = await openMysqlVerifySource(mysqlSpec('canon', [`${MY_DB}.*`], '/nonexistent.duckdb').source as never, undefined);
  });

  after(async () => {
    await pgSource?.close();
    await mySource?.close();
    await pgc?.query('DROP SCHEMA IF EXISTS canon CASCADE; DROP TYPE IF EXISTS ducktail_verify_mood');
    await pgc?.end();
    await my?.query(`DROP DATABASE IF EXISTS ${MY_DB}`);
    await my?.end();
    dc?.closeSync();
    duck?.closeSync();
  });

  const duckRows = async (sql: string): Promise<(string | null)[][]> =>
    (await dc.runAndReadAll(sql)).getRowsJson().map((r) => r.map(jsonText));

  /** Creates the case table on the source and in DuckDB (a value row and a NULL row), then compares canonical texts and row hashes. */
  async function checkCases(kind: 'pg' | 'my', cases: Case[]): Promise<void> {
    const src = kind === 'pg' ? pgSource : mySource;
    const q = (n: string): string => src.dialect.ident(n);
    const cols: { source: SideColumn; dest: SideColumn }[] = cases.map((x, i) => ({ source: { name: `c${i}`, cls: x.cls, type: x.type }, dest: { name: `c${i}`, cls: x.cls, type: x.duckType } }));
    const table = kind === 'pg' ? 'canon.vals' : `${MY_DB}.vals`;
    const defs = cases.map((x, i) => `${q(`c${i}`)} ${x.type}`).join(', ');
    const values = cases.map((x) => (kind === 'my' ? myLiteral(x.literal) : x.literal)).join(', ');
    if (kind === 'pg') await pgc.query(`CREATE TABLE ${table} (id int PRIMARY KEY, ${defs}); INSERT INTO ${table} VALUES (1, ${values}), (2${', NULL'.repeat(cases.length)})`);
    else await my.query(`CREATE TABLE ${table} (id int PRIMARY KEY, ${defs}) DEFAULT CHARSET = utf8mb4`).then(() => my.query(`INSERT INTO ${table} VALUES (1, ${values}), (2${', NULL'.repeat(cases.length)})`));
    await dc.run(`CREATE OR REPLACE TABLE ${kind}_vals (id INTEGER, ${cases.map((x, i) => `c${i} ${x.duckType}`).join(', ')})`);
    await dc.run(`INSERT INTO ${kind}_vals VALUES (1, ${cases.map((x) => `CAST(${x.duckLiteral} AS ${x.duckType})`).join(', ')}), (2${', NULL'.repeat(cases.length)})`);

    const srcFrom = kind === 'pg' ? 'canon.vals' : `\`${MY_DB}\`.vals`;
    const srcSel = (exprs: string[]): string => `SELECT ${exprs.join(', ')} FROM ${srcFrom} ORDER BY id`;
    const dSel = (exprs: string[]): string => `SELECT ${exprs.join(', ')} FROM ${kind}_vals ORDER BY id`;
    const got = await src.exec({ sql: srcSel(cols.map((x) => src.dialect.canonical(x.source))), params: [] });
    const want = await duckRows(dSel(cols.map((x) => d.canonical(x.dest))));
    cases.forEach((x, i) => {
      const label = `${kind} ${x.type} ${x.literal} / DuckDB ${x.duckType}`;
      assert.equal(got[0]![i], want[0]![i], `${label}: source and DuckDB canonical texts`);
      if (x.expect !== undefined) assert.equal(got[0]![i], x.expect, `${label}: canonical text`);
      assert.equal(got[1]![i], null, `${label}: NULL stays NULL at the source`);
      assert.equal(want[1]![i], null, `${label}: NULL stays NULL in DuckDB`);
    });
    // Whole rows hash alike (the value row and the all-NULL row).
    const srcHash = await src.exec({ sql: srcSel([src.dialect.intText(src.dialect.rowHash(cols.map((x) => src.dialect.canonical(x.source))))]), params: [] });
    const duckHash = await duckRows(dSel([d.intText(d.rowHash(cols.map((x) => d.canonical(x.dest))))]));
    assert.deepEqual(srcHash, duckHash, `${kind}: row hashes`);
  }

  test('PostgreSQL and DuckDB: every compared type', () => checkCases('pg', PG_CASES));
  test('MariaDB and DuckDB: every compared type', () => checkCases('my', MY_CASES));

  test('key texts, key order and range bounds agree on every side', async () => {
    for (const [n, k] of KEY_CASES.entries()) {
      const rows = k.values.map(([srcLit, duckLit], i) => ({ id: i + 1, srcLit, duckLit }));
      await pgc.query(`DROP TABLE IF EXISTS canon.k${n}; CREATE TABLE canon.k${n} (id int, k ${k.pg}); INSERT INTO canon.k${n} VALUES ${rows.map((r) => `(${r.id}, ${r.srcLit})`).join(', ')}`);
      await my.query(`CREATE TABLE k${n} (id int, k ${k.my}) DEFAULT CHARSET = utf8mb4`);
      await my.query(`INSERT INTO k${n} VALUES ${rows.map((r) => `(${r.id}, ${myLiteral(r.srcLit)})`).join(', ')}`);
      await dc.run(`CREATE OR REPLACE TABLE k${n} (id INTEGER, k ${k.duck}); INSERT INTO k${n} VALUES ${rows.map((r) => `(${r.id}, CAST(${r.duckLit} AS ${k.duck}))`).join(', ')}`);

      const sides: { name: string; src: VerifySource; col: SideColumn; from: string }[] = [
        { name: 'postgres', src: pgSource, col: { name: 'k', cls: k.cls, type: k.pg }, from: `canon.k${n}` },
        { name: 'mysql', src: mySource, col: { name: 'k', cls: k.cls, type: k.my }, from: `\`${MY_DB}\`.k${n}` },
      ];
      const duckCol: SideColumn = { name: 'k', cls: k.cls, type: k.duck };
      const duckOrdered = await duckRows(`SELECT CAST(id AS VARCHAR), ${d.keyText(duckCol)} AS kt FROM k${n} ORDER BY ${d.keyOrder(duckCol)}`);
      for (const side of sides) {
        const dl = side.src.dialect;
        const ordered = await side.src.exec({ sql: `SELECT ${dl.intText('id')}, ${dl.keyText(side.col)} AS kt FROM ${side.from} ORDER BY ${dl.keyOrder(side.col)}`, params: [] });
        assert.deepEqual(ordered, duckOrdered, `${side.name} ${k.pg}: ids in key order, and key texts`);
        // A range (b3, b7] with bounds taken from DuckDB's key texts selects the same rows.
        const range = { from: [duckOrdered[2]![1]!], to: [duckOrdered[6]![1]!] };
        const srcTable: TableSql = { dialect: dl, from: side.from, keys: [side.col], compared: [side.col], live: null };
        const p = new Params(dl);
        const where = rangeWhere(srcTable, range, p);
        const inRange = await side.src.exec({ sql: `SELECT ${dl.intText('id')} FROM ${side.from} ${where} ORDER BY ${dl.keyOrder(side.col)}`, params: p.values });
        const dp = new Params(d);
        const duckWhere = rangeWhere({ dialect: d, from: `k${n}`, keys: [duckCol], compared: [duckCol], live: null }, range, dp);
        const duckIn = await duckRows(`SELECT CAST(id AS VARCHAR) FROM k${n} ${duckWhere} ORDER BY ${d.keyOrder(duckCol)}`);
        assert.deepEqual(inRange, duckIn, `${side.name} ${k.pg}: rows of a range`);
        assert.equal(duckIn.length, 4, `${k.pg}: (3rd, 7th] holds 4 rows`);
      }
    }
  });
});
