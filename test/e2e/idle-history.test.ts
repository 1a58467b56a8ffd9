import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { historyEventsSince, historyMark } from '../../bench/history.js';
import { flushSignal, pauseSignal, resumeSignal, resyncUpdate } from '../../src/temporal/pipeline-contract.js';
import { duckQuery } from '../helpers/duckdb.js';
import { pgE2E } from '../helpers/pg-e2e.js';
import { pgSpec, startPipelineWorkflow, waitForStatus } from '../helpers/pipelines.js';

const TQ = 'e2e-idle-history';
const TABLE = 'e2e_idle_h.t';
/** How long the idle pipeline is watched. */
const IDLE_MS = 30_000; // half a long poll: at most one capture cycle (6 events) falls in it

/** A PostgreSQL LSN (`16/B374D848`) as a number. */
function lsn(text: string): bigint {
  const [hi, lo] = text.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

/** Milliseconds `fn` takes. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = Date.now();
  await fn();
  return Date.now() - started;
}

describe('an idle pipeline stays quiet (real PostgreSQL, DuckDB, Temporal)', () => {
  const h = pgE2E({
    taskQueue: TQ,
    slotPrefix: 'ducktail_e2e_idle_h',
    schemaSql: `DROP SCHEMA IF EXISTS e2e_idle_h CASCADE; CREATE SCHEMA e2e_idle_h; CREATE TABLE ${TABLE} (id int PRIMARY KEY, v text); INSERT INTO ${TABLE} VALUES (1, 'a'); CREATE TABLE e2e_idle_h.other (id int)`,
  });

  test('idle: a few history events a minute; a change, a pause, a re-sync request and a stop are still taken in at once', { timeout: 300_000 }, async () => {
    // The default batch limits: a capture that finds nothing waits up to a minute.
    const spec = pgSpec('e2e_idle_h', 'ducktail_e2e', [TABLE], path.join(h.dir, 'idle.duckdb'), { batch: {} });
    assert.equal(spec.batch.idleWaitMs, 60_000);
    const client = h.server.env.client;
    const handle = await startPipelineWorkflow(client, TQ, spec);
    await waitForStatus(client, spec.name, 'the snapshot loaded', (s) => s.phase === 'streaming' && s.checkpoint?.snapshot === undefined && s.batches >= 1);

    const mark = await historyMark(handle);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const events = await historyEventsSince(client, handle.workflowId, mark);
    const perMinute = (events.length * 60_000) / IDLE_MS;
    console.log(`idle pipeline: ${events.length} history events in ${IDLE_MS / 1000} s (${perMinute.toFixed(1)}/min; about 70/min before captures waited)`);
    assert.ok(perMinute < 15, `an idle pipeline wrote ${events.length} history events in ${IDLE_MS / 1000} s`);

    // A change arriving during the long poll is loaded as fast as ever.
    const inserted = await timed(async () => {
      await h.pgc.query(`INSERT INTO ${TABLE} VALUES (2, 'b')`);
      await waitForStatus(client, spec.name, 'the insert loaded', (s) => (s.counts[TABLE]?.insert ?? 0) >= 1, 20_000);
    });
    assert.ok(inserted < 5_000, `a change took ${inserted} ms to load`);

    // A pause ends the capture's wait: the workflow does not sit out the minute.
    const paused = await timed(async () => {
      await handle.signal(pauseSignal);
      await waitForStatus(client, spec.name, 'paused', (s) => s.phase === 'paused', 30_000);
    });
    assert.ok(paused < 5_000, `pausing an idle pipeline took ${paused} ms`);
    await handle.signal(resumeSignal);
    await waitForStatus(client, spec.name, 'streaming again', (s) => s.phase === 'streaming');
    await new Promise((r) => setTimeout(r, 2_000)); // the next capture is waiting again

    // So does a re-sync request: it is taken into the checkpoint and the table copied again.
    const resynced = await timed(async () => {
      await handle.executeUpdate(resyncUpdate, { args: [{ tables: [TABLE] }] });
      await waitForStatus(client, spec.name, 'the re-sync done', (s) => (s.backfillRequests ?? []).length === 0 && s.backfillProgress === undefined && (s.counts[TABLE]?.snapshot ?? 0) >= 3, 30_000);
    });
    assert.ok(resynced < 10_000, `a re-sync of an idle pipeline took ${resynced} ms`);
    await new Promise((r) => setTimeout(r, 2_000));

    // A flush (what `ducktail verify` sends before it waits for the copy) commits a position that
    // only moved (here: a table the pipeline does not copy) at once, not at the end of the long poll.
    await h.pgc.query('INSERT INTO e2e_idle_h.other SELECT generate_series(1, 100)');
    const target = lsn((await h.pgc.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn);
    const flushed = await timed(async () => {
      await handle.signal(flushSignal);
      await waitForStatus(client, spec.name, 'the moved position loaded', (s) => {
        const at = s.checkpoint?.position;
        return at != null && 'lsn' in at && lsn(at.lsn) >= target;
      }, 30_000);
    });
    assert.ok(flushed < 15_000, `a flush took ${flushed} ms to load a position that only moved`);

    // And a stop.
    const stopped = await timed(async () => {
      await handle.cancel();
      assert.equal((await handle.result()).phase, 'stopped');
    });
    assert.ok(stopped < 5_000, `stopping an idle pipeline took ${stopped} ms`);
    console.log(`latencies (ms): change ${inserted}, pause ${paused}, re-sync ${resynced}, flush ${flushed}, stop ${stopped}`);
    const rows = await duckQuery(spec.destination.path, `SELECT id, v FROM ${TABLE} WHERE NOT __deleted ORDER BY id`);
    assert.deepEqual(rows.map((r) => [r.id, r.v]), [[1, 'a'], [2, 'b']]);
  });
});
