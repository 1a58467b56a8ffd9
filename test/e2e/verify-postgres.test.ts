import type pg from 'pg';
import { RUN_ID } from '../helpers/mysql.js';
import { dropPgReplication, ensurePgDatabase, PG_HOST, PG_PORT, PG_USER, pgConnect } from '../helpers/postgres.js';
import { describeVerifyE2E } from '../helpers/verify-e2e.js';

const DB = 'ducktail_verify';
const SCHEMA = `vp_${RUN_ID}`;
/** Pipelines `verify_pg_<run>…` get slots and publications `ducktail_verify_pg_<run>…`. */
const PREFIX = `verify_pg_${RUN_ID}`;

let pgc: pg.Client;

const TYPES = `id int PRIMARY KEY, i2 smallint, i8 bigint, n numeric(20,6), nn numeric, f4 real, f8 double precision, b boolean,
  tx text, vc varchar(20), ch char(6), j json, jb jsonb, u uuid, by bytea, d date, ts timestamp, tz timestamptz, tm time,
  m ${SCHEMA}.mood, ip inet, arr int[], iv interval`;
const ROW_1 = `1, -32768, 9223372036854775807, -12345678901234.123456, 1.50, 1.1, 0.1, true,
  'héllo ✓ 😀 ''q'' \\ end', 'abc', 'ab', '{"a": 1,  "b": [1, 2]}', '{"z": 1, "a": [true, null]}',
  'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '\\x00ff10', '1969-12-31', '2024-02-29 23:59:59.999999',
  '1960-01-01 00:00:00.000001+02', '23:59:59.999999', 'happy', '10.0.0.1', '{1,2}', '1 day'`;
const ROW_4 = `4, 0, -1, 0, 'NaN', '-Infinity', 1e300, false, '', '', '', '[]', '{}', '00000000-0000-0000-0000-000000000000',
  '\\x', 'infinity', '-infinity', 'infinity', '00:00', 'sad', '::1', '{}', '-1 mon'`;

describeVerifyE2E({
  label: 'PostgreSQL',
  schema: SCHEMA,
  source: { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: DB },
  names: { merge: PREFIX, keyless: `${PREFIX}_keyless`, append: `${PREFIX}_append` },
  sourceExtra: () => ({}),
  async setup() {
    await ensurePgDatabase(DB);
    pgc = await pgConnect(DB);
    await dropPgReplication(pgc, `ducktail_${PREFIX}`);
    await pgc.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA};
      CREATE TYPE ${SCHEMA}.mood AS ENUM ('sad', 'ok', 'happy');
      CREATE TABLE ${SCHEMA}.items (id int PRIMARY KEY, v int NOT NULL, t text);
      INSERT INTO ${SCHEMA}.items SELECT g, g * 2, 'row ' || g FROM generate_series(1, 400) g;
      CREATE TABLE ${SCHEMA}.comp (region text, id int, v numeric(12,2), PRIMARY KEY (region, id));
      INSERT INTO ${SCHEMA}.comp SELECT r, g, g / 7.0 FROM unnest(ARRAY['eu', 'us', 'B', 'a', 'é']) r, generate_series(1, 60) g;
      CREATE TABLE ${SCHEMA}.types (${TYPES});
      INSERT INTO ${SCHEMA}.types VALUES (${ROW_1});
      INSERT INTO ${SCHEMA}.types (id) VALUES (2);
      CREATE TABLE ${SCHEMA}.nokey (a int, b text);
      ALTER TABLE ${SCHEMA}.nokey REPLICA IDENTITY FULL;
      INSERT INTO ${SCHEMA}.nokey VALUES (1, 'x'), (2, 'y');`);
  },
  async streamTypes() {
    await pgc.query(`INSERT INTO ${SCHEMA}.types SELECT 3, i2, i8, n, nn, f4, f8, b, tx, vc, ch, j, jb, u, by, d, ts, tz, tm, m, ip, arr, iv FROM ${SCHEMA}.types WHERE id = 1`);
    await pgc.query(`INSERT INTO ${SCHEMA}.types VALUES (${ROW_4})`);
  },
  async churn(step) {
    await pgc.query(`BEGIN;
      UPDATE ${SCHEMA}.items SET v = v + 1 WHERE id IN (SELECT id FROM ${SCHEMA}.items WHERE id <> 17 ORDER BY random() LIMIT 5);
      INSERT INTO ${SCHEMA}.items VALUES (1000 + ${step}, ${step}, 'new');
      DELETE FROM ${SCHEMA}.items WHERE id = ${200 + (step % 150)};
      UPDATE ${SCHEMA}.comp SET v = v + 1 WHERE region = 'us' AND id = ${(step % 60) + 1};
      INSERT INTO ${SCHEMA}.comp VALUES ('zz', ${step}, ${step});
      COMMIT`);
  },
  async count(name) {
    return Number((await pgc.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.${name}`)).rows[0]?.n);
  },
  notCompared: [/\.types\.arr \(integer\[\]\): arrays are not compared/, /\.types\.iv \(interval\): intervals are not compared/],
  async cleanup() {
    if (pgc === undefined) return;
    await dropPgReplication(pgc, `ducktail_${PREFIX}`);
    await pgc.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await pgc.end();
  },
});
