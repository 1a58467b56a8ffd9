import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { duckQuery } from '../helpers/duckdb.js';
import { pgE2E } from '../helpers/pg-e2e.js';
import { pgSpec, pipelineStatus, startPipelineWorkflow, waitForStatus } from '../helpers/pipelines.js';
import { waitFor } from '../helpers/wait.js';

const DB = 'ducktail_e2e';
const TQ = 'e2e-types';

/** Column, PostgreSQL type, and expressions giving the same canonical text on each side. */
const COLUMNS: [name: string, type: string, pgExpr: string, duckExpr: string][] = [
  ['i2', 'int2', 'i2::text', 'CAST(i2 AS VARCHAR)'],
  ['i4', 'int4', 'i4::text', 'CAST(i4 AS VARCHAR)'],
  ['i8', 'int8', 'i8::text', 'CAST(i8 AS VARCHAR)'],
  ['n', 'numeric(20,6)', 'n::text', 'CAST(n AS VARCHAR)'],
  ['nfree', 'numeric', 'nfree::text', 'nfree'],
  ['f8', 'float8', 'f8::text', 'CAST(f8 AS VARCHAR)'],
  ['b', 'boolean', 'b::text', 'CAST(b AS VARCHAR)'],
  ['t', 'text', 't', 't'],
  ['vc', 'varchar(20)', 'vc', 'vc'],
  ['d', 'date', 'd::text', 'CAST(d AS VARCHAR)'],
  ['tm', 'time', 'tm::text', 'CAST(tm AS VARCHAR)'],
  ['ts', 'timestamp', '(extract(epoch from ts) * 1000000)::bigint::text', 'CAST(epoch_us(ts) AS VARCHAR)'],
  ['tstz', 'timestamptz', '(extract(epoch from tstz) * 1000000)::bigint::text', 'CAST(epoch_us(tstz) AS VARCHAR)'],
  [
    'iv',
    'interval',
    "concat_ws(' ', date_part('year', iv) * 12 + date_part('month', iv), date_part('day', iv), (extract(epoch from iv - date_trunc('day', iv)) * 1000000)::bigint)",
    "concat_ws(' ', date_part('year', iv) * 12 + date_part('month', iv), date_part('day', iv), date_part('hour', iv)::BIGINT * 3600000000 + date_part('minute', iv)::BIGINT * 60000000 + date_part('microseconds', iv))",
  ],
  ['js', 'jsonb', 'js::text', 'CAST(js AS VARCHAR)'],
  ['ia', 'int[]', 'array_to_json(ia)::text', 'CAST(to_json(ia) AS VARCHAR)'],
  ['ta', 'text[]', 'array_to_json(ta)::text', 'CAST(to_json(ta) AS VARCHAR)'],
  ['u', 'uuid', 'u::text', 'CAST(u AS VARCHAR)'],
  ['bin', 'bytea', "encode(bin, 'hex')", 'lower(hex(bin))'],
  ['mood', 'e2e_t.mood', 'mood::text', 'mood'],
  ['addr', 'inet', 'addr', 'addr'],
];

const ROWS = [
  `(1, -32768, 2147483647, 9223372036854775807, 12345678901234.123456, 3.14159265358979323846264338327950288419716939937510, 0.1,
    true, 'héllo, wörld ''quoted'' \\ back', 'short', '2024-02-29', '23:59:59.999999', '2024-01-02 03:04:05.123456',
    '2024-01-02 03:04:05.654321+02', '1 year 2 mons 3 days 04:05:06.789', '{"a": [1, 2, {"b": null}], "z": "ü"}',
    '{1,NULL,3}', '{"a,b","c\\"d",NULL,""}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00ff10', 'happy', '192.168.1.0/24')`,
  `(2, 0, 0, -1, -0.000001, -1e-30, -1.5e300, false, '', NULL, '0001-01-01', '00:00:00', '1970-01-01 00:00:00',
    '1999-12-31 23:59:59.999999+00', '-1 days +02:00:00', '[]', '{}', '{}', '00000000-0000-0000-0000-000000000000', '\\x', 'sad', '::1')`,
  `(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
];

describe('values and TOAST through the whole pipeline (real PostgreSQL, DuckDB, Temporal)', () => {
  const h = pgE2E({ taskQueue: TQ, slotPrefix: 'ducktail_e2e_t', schemaSql: `DROP SCHEMA IF EXISTS e2e_t CASCADE; CREATE SCHEMA e2e_t; CREATE TYPE e2e_t.mood AS ENUM ('sad', 'happy');
      CREATE TABLE e2e_t.vals (id int PRIMARY KEY, ${COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ')});
      CREATE TABLE e2e_t.docs (id int PRIMARY KEY, body text, counter int)` });

  test('every type round-trips exactly, via snapshot and via the stream; TOAST survives updates', async () => {
    await h.pgc.query(`INSERT INTO e2e_t.vals VALUES ${ROWS[0]}`);
    // ~60 KB of incompressible text: stored out of line (TOASTed).
    await h.pgc.query(`INSERT INTO e2e_t.docs SELECT 1, string_agg(md5(g::text), '') , 0 FROM generate_series(1, 2000) g`);
    for (const mode of ['merge', 'append'] as const) {
      const file = path.join(h.dir, `${mode}.duckdb`);
      const spec = pgSpec(`e2e_t_${mode}`, DB, ['e2e_t.vals', 'e2e_t.docs'], file, { mode });
      await startPipelineWorkflow(h.server.env.client, TQ, spec);
      await waitForStatus(h.server.env.client, spec.name, 'prepared', (s) => s.checkpoint !== null);
    }
    await h.pgc.query(`INSERT INTO e2e_t.vals VALUES ${ROWS[1]}, ${ROWS[2]}`);
    await h.pgc.query(`UPDATE e2e_t.docs SET counter = counter + 1 WHERE id = 1`);
    await h.pgc.query(`UPDATE e2e_t.docs SET counter = counter + 1 WHERE id = 1`);

    const pgText = await h.pgc.query<Record<string, string | null>>(
      `SELECT id, ${COLUMNS.map(([n, , e]) => `${e} AS ${n}`).join(', ')} FROM e2e_t.vals ORDER BY id`,
    );
    const doc = await h.pgc.query<{ md5: string; len: number }>(`SELECT md5(body), length(body) AS len FROM e2e_t.docs`);
    for (const mode of ['merge', 'append'] as const) {
      const file = path.join(h.dir, `${mode}.duckdb`);
      const latest = mode === 'merge' ? 'WHERE NOT __deleted' : '';
      const rows = await waitFor(`${mode}: three rows of values`, async () => {
        const got = await duckQuery(file, `SELECT id, ${COLUMNS.map(([n, , , e]) => `${e} AS ${n}`).join(', ')} FROM e2e_t.vals ${latest} ORDER BY id`);
        return got.length === 3 ? got : undefined;
      }).catch(async (err: Error) => {
        const status = await pipelineStatus(h.server.env.client, `e2e_t_${mode}`);
        throw new Error(`${err.message}\nstatus: ${JSON.stringify({ phase: status.phase, lastError: status.lastError, events: status.events })}`);
      });
      for (const [i, expected] of pgText.rows.entries()) {
        for (const [name] of COLUMNS) {
          assert.equal(rows[i]![name], expected[name], `${mode}: row ${expected.id} column ${name}`);
        }
      }
      const docs = await waitFor(`${mode}: both TOAST updates`, async () => {
        const got = await duckQuery(file, `SELECT counter, md5(body) AS md5, length(body)::INT AS len FROM e2e_t.docs ORDER BY counter`).catch(() => []);
        return got.some((r) => r.counter === 2) ? got : undefined;
      });
      for (const d of docs) {
        assert.equal(d.md5, doc.rows[0]!.md5, `${mode}: the TOASTed body survives (counter ${String(d.counter)})`);
        assert.equal(d.len, doc.rows[0]!.len);
      }
      assert.equal(docs.length, mode === 'merge' ? 1 : 3);
    }
  });
});
