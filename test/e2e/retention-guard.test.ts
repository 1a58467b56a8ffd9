import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Connection } from 'mysql2/promise';
import { pino } from 'pino';
import { formatStatus, readStatus } from '../../src/cli/status.js';
import { teardownPipeline } from '../../src/cli/teardown.js';
import type { PipelineSpec } from '../../src/model/pipeline-spec.js';
import { RELEASE_IDLE_MS } from '../../src/activities/idle-streams.js';
import { pauseSignal, pipelineHandle, resumeSignal } from '../../src/temporal/pipeline-contract.js';
import type { PipelineStatus } from '../../src/workflows/pipeline-state.js';
import { binlogEnd, MY_E2E_DB, myConnect, mysqlSpec, RUN_ID } from '../helpers/mysql.js';
import { pgE2E } from '../helpers/pg-e2e.js';
import { findTemporalCli } from '../../src/temporal/dev-server.js';
import { pgSpec, startPipelineWorkflow, waitForStatus } from '../helpers/pipelines.js';
import { waitFor } from '../helpers/wait.js';

const DB = 'ducktail_e2e';
const TQ = 'e2e-retention';
const MiB = 1024 ** 2;

/** Waits for a measurement taken after `since` (ms) that satisfies `ok`. */
function measuredAfter(since: number, ok: (s: PipelineStatus) => boolean = () => true): (s: PipelineStatus) => boolean {
  return (s) => s.retention != null && Date.parse(s.retention.measuredAt) > since && ok(s);
}

describe('retention guard: what the source keeps for a pipeline (real PostgreSQL, MariaDB, DuckDB, Temporal)', () => {
  const h = pgE2E({
    taskQueue: TQ,
    slotPrefix: 'ducktail_e2e_rg',
    schemaSql: 'DROP SCHEMA IF EXISTS e2e_rg CASCADE; CREATE SCHEMA e2e_rg; CREATE TABLE e2e_rg.t (id int PRIMARY KEY, pad text); INSERT INTO e2e_rg.t SELECT g, md5(g::text) FROM generate_series(1, 10) g',
  });
  const client = () => h.server.env.client;

  async function pause(name: string): Promise<PipelineStatus> {
    await pipelineHandle(client(), name).signal(pauseSignal);
    const at = Date.now();
    return waitForStatus(client(), name, 'paused and measured', measuredAfter(at, (s) => s.phase === 'paused'));
  }

  test('PostgreSQL: the WAL the slot retains grows while paused and shrinks after resume; a dropped slot parks the pipeline with the fix, which works', { timeout: 180_000 }, async () => {
    const name = 'e2e_rg';
    const spec: PipelineSpec = pgSpec(name, DB, ['e2e_rg.t'], path.join(h.dir, 'rg.duckdb'), {
      batch: { maxRows: 5000, maxWaitMs: 200, idleWaitMs: 500 },
      snapshot: { enabled: true, chunkRows: 10_000 },
      retention: { warnBytes: 4 * MiB, checkSeconds: 5 },
    });
    await startPipelineWorkflow(client(), TQ, spec);
    const streaming = await waitForStatus(client(), name, 'snapshot loaded, streaming', (s) => s.phase === 'streaming' && s.events === 10 && s.retention != null);
    assert.equal(streaming.retention?.log, 'WAL');
    assert.equal(typeof streaming.sourceRetainedBytes, 'number', 'measured with every capture');

    const paused = await pause(name);
    const before = paused.sourceRetainedBytes ?? 0;
    // ~10 MB of WAL the paused pipeline has not loaded.
    await h.pgc.query(`INSERT INTO e2e_rg.t SELECT g, repeat(md5(g::text), 10) FROM generate_series(11, 20010) g`);
    const written = Date.now();
    const grown = await waitForStatus(client(), name, 'the retained WAL grown while paused', measuredAfter(written, (s) => (s.sourceRetainedBytes ?? 0) >= before + 8 * MiB), 30_000);
    assert.equal(grown.phase, 'paused');
    assert.equal(grown.events, 10, 'nothing loaded while paused');
    assert.match(grown.retention?.warnings[0] ?? '', /over retention\.warnBytes \(4\.0 MiB\)[\s\S]*ducktail resume e2e_rg/);
    const text = formatStatus([await readStatus(client(), name)]);
    assert.match(text, /source retains: \d+\.\d MiB of WAL \(warn at 4\.0 MiB; wal_status (reserved|extended)\)/, text);
    assert.match(text, /WARNING: the source keeps \d+\.\d MiB of WAL for this pipeline/, text);
    assert.match(text, /served by worker [\w.-]+-\d+-[0-9a-f]{6}$/m, text);
    await pipelineHandle(client(), name).signal(resumeSignal);
    const peak = grown.sourceRetainedBytes ?? 0;
    // The slot frees WAL once the loaded position is acknowledged and PostgreSQL moves its restart_lsn (at its next running-transactions record).
    const shrunk = await waitForStatus(client(), name, 'the retained WAL shrunk after resume', (s) => s.events === 20010 && (s.sourceRetainedBytes ?? Infinity) < peak - 8 * MiB, 90_000);
    assert.equal(shrunk.phase, 'streaming');
    assert.deepEqual(shrunk.retention?.warnings, [], 'under the threshold again');

    // The slot is dropped under the paused pipeline (e.g. by an operator freeing the disk).
    await pause(name);
    // A paused pipeline lets go of its slot (no capture for RELEASE_IDLE_MS), as another worker would need it.
    const pausedAt = Date.now();
    await waitFor('the paused pipeline let go of its slot', async () => {
      const { rows } = await h.pgc.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', ['ducktail_e2e_rg']);
      return rows[0]?.active === false ? true : undefined;
    }, { timeoutMs: RELEASE_IDLE_MS + 20_000 });
    assert.ok(Date.now() - pausedAt >= RELEASE_IDLE_MS - 2_000, 'not before the idle wait');
    await waitFor('the slot dropped', async () => {
      try {
        await h.pgc.query(`SELECT pg_drop_replication_slot('ducktail_e2e_rg')`);
        return true;
      } catch (err) {
        return /does not exist/.test((err as Error).message) ? true : undefined; // 55006 while the walsender exits
      }
    });
    const failed = await waitForStatus(client(), name, 'parked as failed', (s) => s.phase === 'failed', 30_000);
    assert.equal(failed.lastError?.type, 'PositionLostError');
    assert.match(failed.lastError?.message ?? '', /replication slot ducktail_e2e_rg no longer exists/);
    assert.match(failed.lastError?.message ?? '', /fix: .*`ducktail stop e2e_rg`, `ducktail teardown e2e_rg`, `ducktail start e2e_rg`.*`ducktail verify e2e_rg --repair`/);

    // The fix: stop, teardown, start copies everything again from a new slot, and the pipeline streams on.
    const handle = pipelineHandle(client(), name);
    await handle.cancel();
    assert.equal((await handle.result()).phase, 'stopped');
    // Replayed by test/integration/workflow-replay.test.ts: observations while paused, cancelled by resume, a park from one, stop while parked.
    if (process.env.DUCKTAIL_RECORD_HISTORY === '1') {
      const cli = findTemporalCli();
      assert.ok(cli !== undefined, 'recording needs the temporal CLI (npm run setup)');
      const shown = execFileSync(cli, ['workflow', 'show', '--workflow-id', 'ducktail-e2e_rg', '--address', h.server.address, '--output', 'json']);
      await writeFile(new URL('../fixtures/histories/pipeline-paused-observed-parked.json', import.meta.url), shown);
    }
    await teardownPipeline(client(), spec, pino({ level: 'warn' }));
    await h.pgc.query(`INSERT INTO e2e_rg.t VALUES (20011, 'after')`);
    await startPipelineWorkflow(client(), TQ, spec);
    const again = await waitForStatus(client(), name, 'copied again and streaming', (s) => s.phase === 'streaming' && s.events === 20011, 90_000);
    assert.equal(again.lastError, null);
    await handle.cancel();
    await handle.result();
  });

  test('MariaDB: binlog bytes from the checkpoint grow while paused (oldest binlog kept, expiry shown) and shrink after resume; a purged binlog parks the pipeline with the fix', { timeout: 180_000 }, async () => {
    const name = `e2e_rg_my_${RUN_ID}`;
    const table = `rg_${RUN_ID}`;
    const my: Connection = await myConnect();
    try {
      await my.query(`DROP TABLE IF EXISTS ${table}`);
      await my.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, pad VARCHAR(400))`);
      await my.query(`INSERT INTO ${table} SELECT seq, MD5(seq) FROM mysql.seq_1_to_10`);
      const spec = mysqlSpec(name, [`${MY_E2E_DB}.${table}`], path.join(h.dir, 'rg-my.duckdb'), {
        batch: { maxRows: 5000, maxWaitMs: 200, idleWaitMs: 500 },
        retention: { checkSeconds: 5 },
      });
      await startPipelineWorkflow(client(), TQ, spec);
      await waitForStatus(client(), name, 'snapshot loaded, streaming', (s) => s.phase === 'streaming' && s.events === 10 && s.retention != null, 90_000);

      const paused = await pause(name);
      const oldest = paused.retention?.oldestBinlog;
      assert.equal(oldest, (await binlogEnd(my)).file, 'the checkpoint is in the binlog being written');
      assert.equal(paused.retention?.purgeInSeconds, undefined, 'the binlog being written is never purged');
      await my.query('FLUSH BINARY LOGS');
      await my.query(`INSERT INTO ${table} SELECT seq, REPEAT(MD5(seq), 10) FROM mysql.seq_11_to_5010`);
      const written = Date.now();
      const grown = await waitForStatus(client(), name, 'the binlog kept grown while paused', measuredAfter(written, (s) => (s.sourceRetainedBytes ?? 0) >= (paused.sourceRetainedBytes ?? 0) + MiB), 30_000);
      assert.equal(grown.events, 10, 'nothing loaded while paused');
      assert.equal(grown.retention?.oldestBinlog, oldest, 'still needs the binlog it paused in');
      const expiry = grown.retention?.binlogExpirySeconds;
      assert.ok(expiry !== undefined && expiry > 0, 'the server purges by age');
      const purgeIn = grown.retention?.purgeInSeconds ?? -1;
      assert.ok(purgeIn > expiry - 120 && purgeIn <= expiry, `rotated just now: the whole expiry is left (${purgeIn} of ${expiry})`);
      const text = formatStatus([await readStatus(client(), name)]);
      assert.match(text, new RegExp(`source retains: \\d+\\.\\d MiB of binlog from ${oldest?.replace('.', '\\.')} \\(warn at 1\\.00 GiB; binlog expiry [\\d.]+ d; may be purged in [\\d.]+ d\\)`), text);

      await pipelineHandle(client(), name).signal(resumeSignal);
      const shrunk = await waitForStatus(client(), name, 'the binlog kept shrunk after resume', (s) => s.events === 5010 && s.retention?.oldestBinlog !== oldest && (s.sourceRetainedBytes ?? Infinity) < (grown.sourceRetainedBytes ?? 0) - MiB, 60_000);
      assert.equal(shrunk.phase, 'streaming');

      // Paused again, and the server purges the binlog the pipeline resumes from.
      const again = await pause(name);
      const needed = again.retention?.oldestBinlog;
      await my.query('FLUSH BINARY LOGS');
      const current = (await binlogEnd(my)).file;
      await waitFor(`binlogs before ${current} purged`, async () => {
        await my.query(`PURGE BINARY LOGS TO '${current}'`).catch(() => undefined); // a reader may still be switching files
        const [rows] = await my.query('SHOW BINARY LOGS');
        return (rows as { Log_name: string }[]).some((r) => r.Log_name === needed) ? undefined : true;
      });
      const failed = await waitForStatus(client(), name, 'parked as failed', (s) => s.phase === 'failed', 30_000);
      assert.equal(failed.lastError?.type, 'PositionLostError');
      assert.match(failed.lastError?.message ?? '', new RegExp(`binlog ${needed?.replace('.', '\\.')}.*is no longer on the server`));
      assert.match(failed.lastError?.message ?? '', new RegExp(`fix: .*\`ducktail stop ${name}\`, \`ducktail teardown ${name}\`, \`ducktail start ${name}\`.*binlog_expire_logs_seconds`));
      const handle = pipelineHandle(client(), name);
      await handle.cancel();
      assert.equal((await handle.result()).phase, 'stopped');
    } finally {
      await my.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      await my.end();
    }
  });
});
