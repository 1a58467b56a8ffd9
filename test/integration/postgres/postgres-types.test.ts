import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { DuckDBInstance } from '@duckdb/node-api';
import type { RowEvent } from '../../../src/model/change-event.js';
import type { ColumnSchema } from '../../../src/model/table-schema.js';
import type { PostgresSource } from '../../../src/sources/postgres/postgres-source.js';
import { captureOnce, captureUntil, cleanup, dropOwnTables, ensureTestDatabase, makeSpec, newSource, sql, uniqueName } from './pg-test-helpers.js';

// column, PostgreSQL type, DuckDB type, SQL literal, expected staged text (row 1), edge literal, expected edge text (row 2)
const COLUMNS: [string, string, string, string, string | null, string, string | null][] = [
  ['i2', 'int2', 'SMALLINT', '32767', '32767', 'NULL', null],
  ['i4', 'int4', 'INTEGER', '-2147483648', '-2147483648', 'NULL', null],
  ['i8', 'int8', 'BIGINT', '9223372036854775807', '9223372036854775807', 'NULL', null],
  ['n', 'numeric(12,2)', 'DECIMAL(12,2)', '1234567890.1', '1234567890.10', "'NaN'", null],
  ['nbig', 'numeric', 'VARCHAR', '123456789012345678901234567890.123456789', '123456789012345678901234567890.123456789', "'NaN'", 'NaN'],
  ['f4', 'float4', 'REAL', '1.5', '1.5', "'-Infinity'", '-Infinity'],
  ['f8', 'float8', 'DOUBLE', '0.1', '0.1', "'NaN'", 'NaN'],
  ['b', 'bool', 'BOOLEAN', 'true', 'true', 'false', 'false'],
  ['t', 'text', 'VARCHAR', "'héllo\nworld'", 'héllo\nworld', "''", ''],
  ['vc', 'varchar(20)', 'VARCHAR', "'abc'", 'abc', 'NULL', null],
  ['c', 'char(5)', 'VARCHAR', "'ab'", 'ab   ', 'NULL', null],
  ['nm', 'name', 'VARCHAR', "'nm'", 'nm', 'NULL', null],
  ['en', 'mood', 'VARCHAR', "'happy'", 'happy', 'NULL', null],
  ['by', 'bytea', 'BLOB', "'\\x0102ab'", '0102ab', "''", ''],
  ['d', 'date', 'DATE', "'2024-02-29'", '2024-02-29', "'0044-03-15 BC'", '-0043-03-15'],
  ['tm', 'time', 'TIME', "'04:05:06.789'", '04:05:06.789', "'24:00:00'", '24:00:00'],
  ['ttz', 'timetz', 'TIMETZ', "'04:05:06+02'", '04:05:06+02', 'NULL', null],
  ['ts', 'timestamp', 'TIMESTAMP', "'2024-01-02 03:04:05.123456'", '2024-01-02 03:04:05.123456', "'-infinity'", '-infinity'],
  ['tstz', 'timestamptz', 'TIMESTAMPTZ', "'2024-01-02 03:04:05.123456+02'", '2024-01-02 01:04:05.123456+00', "'infinity'", 'infinity'],
  ['iv', 'interval', 'INTERVAL', "'1 year 2 mons 3 days 04:05:06.789'", '1 year 2 mons 3 days 04:05:06.789', "'-1 days +02:00:00'", '-1 days 02:00:00'],
  ['u', 'uuid', 'UUID', "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'NULL', null],
  ['j', 'json', 'JSON', `'{"a": [1, 2]}'`, '{"a": [1, 2]}', 'NULL', null],
  ['jb', 'jsonb', 'JSON', `'{"b": 1, "a": "x"}'`, '{"a": "x", "b": 1}', 'NULL', null],
  ['ia', 'int4[]', 'INTEGER[]', "'{1,2,NULL}'", '["1","2",null]', "'{}'", '[]'],
  ['ta', 'text[]', 'VARCHAR[]', `'{"a,b",NULL,"x\\"y","NULL"}'`, '["a,b",null,"x\\"y","NULL"]', 'NULL', null],
  ['na', 'numeric(10,2)[]', 'DECIMAL(10,2)[]', "'{1.5,-2}'", '["1.50","-2.00"]', 'NULL', null],
  ['tza', 'timestamptz[]', 'TIMESTAMPTZ[]', "'{2024-01-02 03:04:05+02}'", '["2024-01-02 01:04:05+00"]', 'NULL', null],
  ['jba', 'jsonb[]', 'JSON[]', `ARRAY['{"k": 1}'::jsonb]`, '[{"k": 1}]', 'NULL', null],
  ['ba', 'bytea[]', 'VARCHAR', "ARRAY['\\x01'::bytea]", '{"\\\\x01"}', 'NULL', null],
  ['m2', 'int4[][]', 'VARCHAR', "'{{1,2},{3,4}}'", '{{1,2},{3,4}}', 'NULL', null],
  ['o', 'oid', 'BIGINT', '4294967295', '4294967295', 'NULL', null],
  ['ip', 'inet', 'VARCHAR', "'10.0.0.1/8'", '10.0.0.1/8', 'NULL', null],
  ['mo', 'money', 'VARCHAR', '12.34', '$12.34', 'NULL', null],
  ['pt', 'point', 'VARCHAR', "'(1,2)'", '(1,2)', 'NULL', null],
  ['bt', 'bit(4)', 'VARCHAR', "B'1010'", '1010', 'NULL', null],
  ['dm', 'big_id', 'BIGINT', '42', '42', 'NULL', null],
  ['dn', 'price', 'DECIMAL(8,3)', '1.5', '1.500', 'NULL', null],
  ['rg', 'int4range', 'VARCHAR', "'[1,5)'", '[1,5)', 'NULL', null],
];

async function castInDuckDb(columns: ColumnSchema[], values: (string | null | undefined)[]): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    for (let i = 0; i < columns.length; i++) {
      const col = columns[i]!;
      const v = values[i];
      if (v === null || v === undefined) continue;
      const expr = col.encoding === 'hex' ? 'from_hex($1)' : col.encoding === 'json' ? `CAST(CAST($1 AS JSON) AS ${col.duckType})` : `CAST($1 AS ${col.duckType})`;
      await conn.run(`SELECT ${expr}`, [v]).catch((e: Error) => assert.fail(`${col.name} ${JSON.stringify(v)} -> ${col.duckType}: ${e.message}`));
    }
  } finally {
    conn.closeSync();
  }
}

describe('PostgreSQL type mapping against the real server', () => {
  let db: pg.Client;
  let source: PostgresSource | null = null;
  before(async () => {
    await ensureTestDatabase();
    db = await sql();
    await db.query(`DO $$ BEGIN CREATE TYPE mood AS ENUM ('happy', 'sad'); EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    await db.query(`DO $$ BEGIN CREATE DOMAIN big_id AS int8; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    await db.query(`DO $$ BEGIN CREATE DOMAIN price AS numeric(8,3); EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
  });
  after(async () => {
    await cleanup(source);
    await dropOwnTables(db);
    await db.end();
  });

  test('snapshot and stream stage the same exact, DuckDB-castable text for every type', async () => {
    const name = uniqueName('dt_types');
    await db.query(`CREATE TABLE ${name} (id int PRIMARY KEY, ${COLUMNS.map(([c, t]) => `${c} ${t}`).join(', ')})`);
    const insert = async (id: number, edge: boolean): Promise<void> => {
      await db.query(`INSERT INTO ${name} VALUES (${id}, ${COLUMNS.map((c) => (edge ? c[5] : c[3])).join(', ')})`);
    };
    await insert(1, false);
    await insert(2, true);
    source = newSource(makeSpec(name, [`public.${name}`]));
    const plan = await source.prepare();
    const snap = await captureOnce(source, plan);
    assert.equal(snap.to.snapshot, undefined);
    const schema = snap.sink.schemas[0];
    assert.deepEqual(schema?.columns.slice(1).map((c) => [c.name, c.duckType]), COLUMNS.map(([c, , duck]) => [c, duck]));
    assert.equal(schema?.columns.find((c) => c.name === 'n')?.sourceType, 'numeric(12,2)');

    await insert(3, false);
    await insert(4, true);
    const streamed = await captureUntil(source, snap.to, 2);
    const rows = [...snap.sink.rows, ...(streamed.events as RowEvent[])];
    assert.deepEqual(rows.map((r) => [r.op, r.values[0]]), [['snapshot', '1'], ['snapshot', '2'], ['insert', '3'], ['insert', '4']]);
    for (const r of rows) {
      const edge = r.values[0] === '2' || r.values[0] === '4';
      COLUMNS.forEach((c, i) => assert.deepEqual(r.values[i + 1], edge ? c[6] : c[4], `${r.op} ${c[0]} (${c[1]})`));
      await castInDuckDb(schema?.columns ?? [], r.values);
    }
  });
});
