import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { duckQuery } from '../helpers/duckdb.js';
import { pgE2E } from '../helpers/pg-e2e.js';
import { pgSpec, startPipelineWorkflow, waitForStatus } from '../helpers/pipelines.js';
import { ensurePgDatabase, pgConnect } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';

const TQ = 'e2e-idle-slot';
const TABLE = 'e2e_idle_s.t';
const OTHER_DB = 'ducktail_e2e_idle_other';
const MB = 1024 * 1024;

describe('an idle pipeline does not pin WAL other databases write (real PostgreSQL, DuckDB, Temporal)', () => {
  const h = pgE2E({
    taskQueue: TQ,
    slotPrefix: 'ducktail_e2e_idle_s',
    schemaSql: `DROP SCHEMA IF EXISTS e2e_idle_s CASCADE; CREATE SCHEMA e2e_idle_s; CREATE TABLE ${TABLE} (id int PRIMARY KEY, v text); INSERT INTO ${TABLE} VALUES (1, 'a')`,
  });

  test('~100 MB written in another database: the slot retains little of it, and the copy stays right', { timeout: 180_000 }, async () => {
    // A long poll shorter than the default keeps the test short; the default behaves alike, a minute later at most.
    const spec = pgSpec('e2e_idle_s', 'ducktail_e2e', [TABLE], path.join(h.dir, 'idle.duckdb'), { batch: { idleWaitMs: 20_000 } });
    const slot = spec.source.kind === 'postgres' ? spec.source.slot : '';
    const client = h.server.env.client;
    const handle = await startPipelineWorkflow(client, TQ, spec);
    await waitForStatus(client, spec.name, 'the snapshot loaded', (s) => s.phase === 'streaming' && s.checkpoint?.snapshot === undefined && s.batches >= 1);

    const retained = async (): Promise<number> => {
      const res = await h.pgc.query<{ bytes: string }>('SELECT (pg_current_wal_lsn() - restart_lsn)::bigint::text AS bytes FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      return Number(res.rows[0]?.bytes ?? NaN);
    };
    await ensurePgDatabase(OTHER_DB);
    const other = await pgConnect(OTHER_DB);
    const walBefore = await h.pgc.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    try {
      await other.query('DROP TABLE IF EXISTS wide; CREATE TABLE wide (id int, pad text)');
      // ~1 KB rows in a few big transactions: ~100 MB of WAL the pipeline's tables have no part in.
      for (let i = 0; i < 4; i++) await other.query(`INSERT INTO wide SELECT g, repeat(md5(g::text), 30) FROM generate_series(${i * 25_000 + 1}, ${(i + 1) * 25_000}) g`);
    } finally {
      await other.query('DROP TABLE IF EXISTS wide').catch(() => undefined);
      await other.end();
    }
    const written = await h.pgc.query<{ bytes: string }>('SELECT (pg_current_wal_lsn() - $1::pg_lsn)::bigint::text AS bytes', [walBefore.rows[0]?.lsn]);
    assert.ok(Number(written.rows[0]?.bytes) > 90 * MB, `the other database wrote only ${written.rows[0]?.bytes} bytes of WAL`);
    const peak = await retained();
    assert.ok(peak > 90 * MB, `the slot retained only ${peak} bytes right after the burst: the test would not show a thing`);

    // PostgreSQL moves a slot's restart point at the first acknowledgement after its next
    // running-transactions record (logged within 15 s of activity): within a long poll or two.
    const settled = await waitFor('the slot to let the burst go', async () => {
      const bytes = await retained();
      return bytes < 16 * MB ? bytes : undefined;
    }, { timeoutMs: 60_000, intervalMs: 1_000 });
    console.log(`slot retained ${(peak / MB).toFixed(1)} MB after the burst, ${(settled / MB).toFixed(1)} MB once settled`);

    // The copy is still right: a change made after the burst arrives.
    await h.pgc.query(`INSERT INTO ${TABLE} VALUES (2, 'after the burst')`);
    await waitForStatus(client, spec.name, 'the insert loaded', (s) => (s.counts[TABLE]?.insert ?? 0) >= 1, 20_000);
    const rows = await duckQuery(spec.destination.path, `SELECT id, v FROM ${TABLE} WHERE NOT __deleted ORDER BY id`);
    assert.deepEqual(rows.map((r) => [r.id, r.v]), [[1, 'a'], [2, 'after the burst']]);
    await handle.cancel();
    assert.equal((await handle.result()).phase, 'stopped');
  });
});
