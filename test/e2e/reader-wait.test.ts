import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import type { PipelineStatus } from '../../src/workflows/pipeline-state.js';
import { duckQuery } from '../helpers/duckdb.js';
import type { PollerStats } from '../helpers/duckdb-poller.js';
import { fileSpec, startPipelineWorkflow, tempDir, waitForStatus } from '../helpers/pipelines.js';
import { dropPgReplication, ensurePgDatabase, PG_HOST, PG_PORT, PG_USER, pgConnect } from '../helpers/postgres.js';
import { testServer } from '../helpers/temporal.js';
import { WorkerProcess } from '../helpers/worker-process.js';
import { flushSignal, pipelineHandle } from '../../src/temporal/pipeline-contract.js';
import { parseLsn } from '../../src/sources/postgres/postgres-position.js';

const DB = 'ducktail_e2e';
const RUN = process.pid.toString(36);
const SLOT = `ducktail_e2e_rw_${RUN}`;
const SCHEMA = `e2e_rw_${RUN}`;
const TQ = `e2e-reader-wait-${RUN}`;
const ROWS = 5000;
/** Steady load: a transaction of 50 updates + 20 inserts every 100 ms, ~700 changes/s (the rate of the 66 s report). */
const LOAD_MS = Number(process.env.DUCKTAIL_READER_TEST_SECONDS ?? 25) * 1000;

/** The user's polling client in its own process (see test/helpers/duckdb-poller.ts). */
function startReader(file: string): { child: ChildProcess; stats: Promise<PollerStats> } {
  const poller = fileURLToPath(new URL('../helpers/duckdb-poller.ts', import.meta.url));
  const sql = `SELECT count(*), sum(v) FROM ${SCHEMA}.items WHERE NOT __deleted`;
  const child = spawn(process.execPath, ['--import', 'tsx', poller, file, sql], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const stats = once(child, 'message').then(([m]) => m as PollerStats);
  return { child, stats };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

describe('a user querying the DuckDB file under steady load (real PostgreSQL, worker process, DuckDB, Temporal)', () => {
  let server: DevServer;
  let pgc: pg.Client;
  let dir: string;
  let worker: WorkerProcess | undefined;

  before(async () => {
    await ensurePgDatabase(DB);
    pgc = await pgConnect(DB);
    await dropPgReplication(pgc, SLOT);
    await pgc.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}`);
    await pgc.query(`CREATE TABLE ${SCHEMA}.items (id int PRIMARY KEY, v int NOT NULL, pad text)`);
    await pgc.query(`INSERT INTO ${SCHEMA}.items SELECT g, 0, repeat('x', 100) FROM generate_series(1, ${ROWS}) g`);
    dir = await tempDir('ducktail-reader-wait');
    server = await testServer();
  });

  after(async () => {
    await worker?.kill('SIGKILL');
    await server?.stop();
    await dropPgReplication(pgc, SLOT);
    await pgc.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await pgc.end();
  });

  test('its query waits a few seconds at most (p99 and max ≤ 5 s), and nothing is lost', { timeout: 600_000 }, async () => {
    const configFile = path.join(dir, 'ducktail.yaml');
    const name = `e2e_rw_${RUN}`;
    await writeFile(configFile, stringify({
      temporal: { taskQueue: TQ },
      pipelines: [{
        name,
        source: { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: DB, tables: [`${SCHEMA}.items`], slot: SLOT, publication: SLOT },
        destination: { path: 'rw.duckdb' },
      }],
    }));
    const [spec] = (await loadConfig(configFile)).pipelines.map(fileSpec);
    assert.ok(spec);
    worker = new WorkerProcess(configFile, server.address);
    await startPipelineWorkflow(server.env.client, TQ, spec);
    await waitForStatus(server.env.client, name, 'streaming', (s) => s.phase === 'streaming' && s.events >= ROWS, 90_000);

    let changes = 0;
    const started = Date.now();
    const reader = startReader(spec.destination.path);
    for (let t = 0; Date.now() - started < LOAD_MS; t++) {
      const tick = Date.now();
      await pgc.query('BEGIN');
      await pgc.query(`UPDATE ${SCHEMA}.items SET v = v + 1 WHERE id IN (SELECT (random() * ${ROWS - 1})::int + 1 FROM generate_series(1, 50))`);
      await pgc.query(`INSERT INTO ${SCHEMA}.items SELECT 1000000 + $1 * 20 + g, 1, 'n' FROM generate_series(1, 20) g`, [t]);
      await pgc.query('COMMIT');
      changes += 70; // duplicate random ids update a row once; counted exactly below from the source
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - tick))));
    }
    const seconds = (Date.now() - started) / 1000;
    reader.child.send('stop');
    const stats = await reader.stats;

    const waits = [...stats.waits].sort((x, y) => x - y);
    const summary = {
      rate: Math.round(changes / seconds),
      queries: stats.queries,
      refusedOpens: stats.refused,
      p50: percentile(waits, 50),
      p90: percentile(waits, 90),
      p99: percentile(waits, 99),
      max: waits[waits.length - 1] ?? 0,
    };
    process.stderr.write(`reader under ~${summary.rate} changes/s for ${seconds.toFixed(0)} s: ${JSON.stringify(summary)}\n`);
    assert.deepEqual(stats.errors, [], 'the reader saw no error other than the lock');
    assert.ok(stats.queries >= seconds / 5, `the reader got through regularly (${stats.queries} queries)`);
    assert.ok(summary.p99 <= 5_000, `p99 wait ${summary.p99} ms`);
    assert.ok(summary.max <= 5_000, `max wait ${summary.max} ms`);

    // Nothing lost: the copy catches up and equals the source.
    const expected = (await pgc.query<{ id: number; v: number }>(`SELECT id, v FROM ${SCHEMA}.items ORDER BY id`)).rows;
    const end = (await pgc.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
    const handle = pipelineHandle(server.env.client, name);
    // As `ducktail verify` does: a position that only moved past the last commit loads now, not at the end of a long poll.
    const loaded = Date.now();
    await handle.signal(flushSignal);
    // Caught up means the checkpoint covers the source's last commit: a lag measured by a capture
    // that ended before that commit is small too, and would stop the pipeline before it is loaded.
    await waitForStatus(server.env.client, name, 'caught up', (s: PipelineStatus) => {
      const at = s.checkpoint?.position;
      return at?.kind === 'pg' && parseLsn(at.ackLsn) >= parseLsn(end) && s.lastError === null;
    }, 120_000);
    process.stderr.write(`the copy caught up ${Date.now() - loaded} ms after the last commit\n`);
    await handle.cancel();
    await handle.result();
    await worker.kill('SIGTERM');
    const copy = await duckQuery(spec.destination.path, `SELECT id, v FROM ${SCHEMA}.items WHERE NOT __deleted ORDER BY id`);
    assert.equal(copy.length, expected.length, `row count (source at ${end})`);
    assert.deepEqual(copy, expected.map((r) => ({ id: r.id, v: r.v })), 'the copy equals the source');
  });
});
