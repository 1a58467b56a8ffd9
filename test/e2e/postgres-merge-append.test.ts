import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { findTemporalCli } from '../../src/temporal/dev-server.js';
import { duckQuery } from '../helpers/duckdb.js';
import { pgE2E } from '../helpers/pg-e2e.js';
import { pgSpec, pipelineStatus, startPipelineWorkflow, waitForStatus } from '../helpers/pipelines.js';
import { waitFor } from '../helpers/wait.js';
import { pauseSignal, pipelineHandle, resumeSignal } from '../../src/temporal/pipeline-contract.js';

const DB = 'ducktail_e2e';
const TQ = 'e2e-merge-append';

/** Source rows as text, ordered by id. */
async function pgRows(pgc: pg.Client, table: string, cols: string): Promise<string[][]> {
  const r = await pgc.query<unknown[]>({ text: `SELECT ${cols} FROM ${table} ORDER BY id`, rowMode: 'array' });
  return r.rows.map((row) => row.map(asText));
}

async function duckRows(file: string, sql: string): Promise<string[][]> {
  const rows = await duckQuery(file, sql);
  return rows.map((r) => Object.values(r).map(asText));
}

function asText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string') return v;
  return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
}

describe('PostgreSQL → DuckDB pipeline (real PostgreSQL, DuckDB and Temporal)', () => {
  const h = pgE2E({ taskQueue: TQ, slotPrefix: 'ducktail_e2e_', schemaSql: 'DROP SCHEMA IF EXISTS e2e_m CASCADE; DROP SCHEMA IF EXISTS e2e_a CASCADE; CREATE SCHEMA e2e_m; CREATE SCHEMA e2e_a' });

  test('MERGE: snapshot, inserts, updates, deletes, ADD COLUMN, a new table, pause/resume, continue-as-new', async () => {
    await h.pgc.query(`CREATE TABLE e2e_m.orders (id int PRIMARY KEY, customer text NOT NULL, amount numeric(12,2), note text)`);
    await h.pgc.query(`INSERT INTO e2e_m.orders SELECT g, 'c' || g, g * 1.25, NULL FROM generate_series(1, 500) g`);
    const file = path.join(h.dir, 'merge.duckdb');
    const spec = pgSpec('e2e_merge', DB, ['e2e_m.*'], file);
    const client = h.server.env.client;
    await startPipelineWorkflow(client, TQ, spec, { batchesPerRun: 4 });

    const cols = 'id, customer, amount, note';
    const duckSql = `SELECT id, customer, CAST(amount AS VARCHAR), note FROM e2e_m.orders WHERE NOT __deleted ORDER BY id`;
    const converge = async (what: string, table = 'e2e_m.orders', pgCols = cols, sql = duckSql) => {
      const expected = await pgRows(h.pgc, table, pgCols);
      await waitFor(what, async () => {
        const got = await duckRows(file, sql).catch(() => []);
        return JSON.stringify(got) === JSON.stringify(expected) ? true : undefined;
      }, { timeoutMs: 90_000 });
    };
    await converge('the snapshot of 500 rows');
    const snap = await duckQuery(file, `SELECT count(*)::INT AS n FROM e2e_m.orders WHERE __op = 'snapshot'`);
    assert.equal(snap[0]!.n, 500);

    await h.pgc.query(`INSERT INTO e2e_m.orders SELECT g, 'new' || g, g, 'x' FROM generate_series(501, 700) g`);
    await h.pgc.query(`UPDATE e2e_m.orders SET amount = amount + 1, note = 'upd' WHERE id % 10 = 0`);
    await h.pgc.query(`DELETE FROM e2e_m.orders WHERE id % 7 = 0`);
    await h.pgc.query(`BEGIN; UPDATE e2e_m.orders SET note = 'twice' WHERE id = 1; UPDATE e2e_m.orders SET note = 'thrice' WHERE id = 1; COMMIT`);
    await converge('inserts, updates and deletes');
    const deleted = await duckQuery(file, `SELECT count(*)::INT AS n FROM e2e_m.orders WHERE __deleted AND __op = 'delete'`);
    assert.equal(deleted[0]!.n, 100, 'deleted rows stay as soft deletes');
    const revived = 14;
    await h.pgc.query(`INSERT INTO e2e_m.orders VALUES (${revived}, 'back', 1, 'revived')`);
    await converge('a re-inserted key revives');

    await h.pgc.query(`ALTER TABLE e2e_m.orders ADD COLUMN priority int DEFAULT 3`);
    await h.pgc.query(`INSERT INTO e2e_m.orders (id, customer, amount, priority) VALUES (1001, 'p', 2, 9)`);
    await waitFor('ADD COLUMN mid-stream', async () => {
      const got = await duckRows(file, `SELECT id, priority FROM e2e_m.orders WHERE id = 1001`).catch(() => []);
      return got.length === 1 ? true : undefined;
    }, { timeoutMs: 60_000 });
    const added = await duckRows(file, `SELECT priority FROM e2e_m.orders WHERE id = 1001`);
    assert.deepEqual(added, [['9']]);

    await h.pgc.query(`CREATE TABLE e2e_m.customers (id int PRIMARY KEY, name text)`);
    await h.pgc.query(`INSERT INTO e2e_m.customers VALUES (1, 'ada'), (2, 'grace')`);
    await converge('a new table', 'e2e_m.customers', 'id, name', `SELECT id, name FROM e2e_m.customers WHERE NOT __deleted ORDER BY id`);

    const handle = pipelineHandle(client, 'e2e_merge');
    await handle.signal(pauseSignal);
    const paused = await waitForStatus(client, 'e2e_merge', 'paused', (s) => s.phase === 'paused');
    const before = paused.batches;
    await h.pgc.query(`INSERT INTO e2e_m.orders (id, customer) SELECT g, 'paused' FROM generate_series(2001, 2050) g`);
    await new Promise((r) => setTimeout(r, 3000));
    const whilePaused = await duckQuery(file, `SELECT count(*)::INT AS n FROM e2e_m.orders WHERE id > 2000`);
    assert.equal(whilePaused[0]!.n, 0, 'nothing loads while paused');
    assert.equal((await waitForStatus(client, 'e2e_merge', 'still paused', (s) => s.paused)).batches, before);
    await handle.signal(resumeSignal);
    await converge('catch-up after resume', 'e2e_m.orders', 'id, customer', `SELECT id, customer FROM e2e_m.orders WHERE NOT __deleted ORDER BY id`);

    const status = await waitForStatus(client, 'e2e_merge', 'continue-as-new', (s) => s.runs > 1);
    assert.ok(status.batches > 4, `several batches ran (${status.batches})`);
    assert.equal(status.lastError, null);

    await handle.cancel();
    const final = (await handle.result()) as { phase: string };
    assert.equal(final.phase, 'stopped', 'UI cancel is a graceful stop');
    // Histories recorded here are replayed by test/integration/workflow-replay.test.ts.
    if (process.env.DUCKTAIL_RECORD_HISTORY === '1') {
      const cli = findTemporalCli();
      assert.ok(cli !== undefined, 'recording needs the temporal CLI (npm run setup)');
      const shown = execFileSync(cli, ['workflow', 'show', '--workflow-id', 'ducktail-e2e_merge', '--address', h.server.address, '--output', 'json']);
      await writeFile(new URL('../fixtures/histories/pipeline-merge-final-run.json', import.meta.url), shown);
    }
  });

  test('APPEND: one row per change, nothing duplicated or missing', async () => {
    await h.pgc.query(`CREATE TABLE e2e_a.events (id int PRIMARY KEY, v text)`);
    await h.pgc.query(`INSERT INTO e2e_a.events SELECT g, 'v' || g FROM generate_series(1, 300) g`);
    const file = path.join(h.dir, 'append.duckdb');
    const spec = pgSpec('e2e_append', DB, ['e2e_a.events'], file, { mode: 'append' });
    const client = h.server.env.client;
    await startPipelineWorkflow(client, TQ, spec);
    // A TRUNCATE while the copy runs would start it over (PostgreSQL's TRUNCATE replaces the
    // table's storage, so the snapshot could no longer read it): the changes come after the copy.
    await waitForStatus(client, 'e2e_append', 'the snapshot is copied', (s) => s.checkpoint !== null && s.phase === 'streaming');
    await h.pgc.query(`UPDATE e2e_a.events SET v = 'u' WHERE id <= 50`);
    await h.pgc.query(`DELETE FROM e2e_a.events WHERE id > 280`);
    await h.pgc.query(`INSERT INTO e2e_a.events VALUES (1000, 'late')`);
    await h.pgc.query(`TRUNCATE e2e_a.events`);
    const expected = { snapshot: 300, update: 50, delete: 20, insert: 1, truncate: 1 };
    let got: Record<string, number> = {};
    const counts = await waitFor('every change appended', async () => {
      const rows = await duckQuery(file, `SELECT __op AS op, count(*)::INT AS n FROM e2e_a.events GROUP BY 1`).catch(() => []);
      got = Object.fromEntries(rows.map((r) => [String(r.op), Number(r.n)]));
      return JSON.stringify(Object.keys(expected).map((k) => got[k])) === JSON.stringify(Object.values(expected)) ? got : undefined;
    }, { timeoutMs: 90_000 }).catch(async (err: Error) => {
      const status = await pipelineStatus(client, 'e2e_append');
      throw new Error(`${err.message}\nappended: ${JSON.stringify(got)}\nstatus: ${JSON.stringify(status)}`);
    });
    assert.deepEqual(counts, expected);
    const dupes = await duckQuery(file, `SELECT count(*)::INT AS n FROM (SELECT __position, __seq, __op, id FROM e2e_a.events GROUP BY ALL HAVING count(*) > 1)`);
    assert.equal(dupes[0]!.n, 0);
    const updated = await duckRows(file, `SELECT id, v FROM e2e_a.events WHERE __op = 'update' ORDER BY id LIMIT 2`);
    assert.deepEqual(updated, [['1', 'u'], ['2', 'u']]);
    await pipelineHandle(client, 'e2e_append').cancel();
  });
});
