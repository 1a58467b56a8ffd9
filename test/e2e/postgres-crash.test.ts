import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { duckQuery } from '../helpers/duckdb.js';
import { startPipelineWorkflow, tempDir, waitForStatus } from '../helpers/pipelines.js';
import { dropPgReplication, ensurePgDatabase, PG_HOST, PG_PORT, PG_USER, pgConnect } from '../helpers/postgres.js';
import { testServer } from '../helpers/temporal.js';
import { WorkerProcess } from '../helpers/worker-process.js';
import { pipelineHandle, queryStatus } from '../../src/temporal/pipeline-contract.js';

const DB = 'ducktail_e2e';
const TQ = 'e2e-crash';
const ROWS = 2000;

describe('worker killed with SIGKILL mid-stream (real PostgreSQL, DuckDB, Temporal)', () => {
  let server: DevServer;
  let pgc: pg.Client;
  let dir: string;
  let worker: WorkerProcess | undefined;

  before(async () => {
    await ensurePgDatabase(DB);
    pgc = await pgConnect(DB);
    await dropPgReplication(pgc, 'ducktail_e2e_k');
    await pgc.query('DROP SCHEMA IF EXISTS e2e_k CASCADE; CREATE SCHEMA e2e_k');
    await pgc.query('CREATE TABLE e2e_k.items (id int PRIMARY KEY, v int NOT NULL, pad text)');
    await pgc.query(`INSERT INTO e2e_k.items SELECT g, 0, repeat('x', 100) FROM generate_series(1, ${ROWS}) g`);
    dir = await tempDir('ducktail-crash');
    server = await testServer();
  });

  after(async () => {
    await worker?.kill('SIGKILL');
    await server?.stop();
    await dropPgReplication(pgc, 'ducktail_e2e_k');
    await pgc?.end();
  });

  test('destination equals source; APPEND has no duplicate or missing event', { timeout: 600_000 }, async () => {
    const source = { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: DB, tables: ['e2e_k.items'] };
    const common = { batch: { maxRows: 500, maxWaitMs: 100, idleWaitMs: 500 }, snapshot: { chunkRows: 400 } };
    const configFile = path.join(dir, 'ducktail.yaml');
    await writeFile(
      configFile,
      stringify({
        temporal: { taskQueue: TQ },
        pipelines: [
          { name: 'e2e_k_merge', source, destination: { path: 'merge.duckdb' }, mode: 'merge', ...common },
          { name: 'e2e_k_append', source: { ...source, slot: 'ducktail_e2e_k_append_slot' }, destination: { path: 'append.duckdb' }, mode: 'append', ...common },
        ],
      }),
    );
    const config = await loadConfig(configFile);
    const client = server.env.client;
    const statuses = () =>
      Promise.all(config.pipelines.map((p) => queryStatus(pipelineHandle(client, p.name))));

    worker = new WorkerProcess(configFile, server.address);
    for (const spec of config.pipelines) await startPipelineWorkflow(client, TQ, spec);
    // Kill mid-stream, not mid-snapshot: both pipelines stream before the first kill.
    for (const spec of config.pipelines) {
      await waitForStatus(client, spec.name, 'snapshot done, streaming', (s) => s.phase === 'streaming', 90_000);
    }

    // Transactions of 100 updates + 20 inserts + up to 10 deletes keep coming until every kill is done.
    let changes = 0;
    let writing = true;
    const writer = (async () => {
      for (let t = 0; writing; t++) {
        await pgc.query('BEGIN');
        await pgc.query(`UPDATE e2e_k.items SET v = v + 1 WHERE id IN (SELECT id FROM e2e_k.items ORDER BY random() LIMIT 100)`);
        await pgc.query(`INSERT INTO e2e_k.items SELECT 100000 + $1 * 20 + g, 1, 'n' FROM generate_series(1, 20) g`, [t]);
        const del = await pgc.query(`DELETE FROM e2e_k.items WHERE id IN (SELECT id FROM e2e_k.items WHERE id < 100000 ORDER BY random() LIMIT 10)`);
        await pgc.query('COMMIT');
        changes += 100 + 20 + (del.rowCount ?? 0);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const kills: string[] = [];
    for (const phase of ['load started', 'capture started', 'load started']) {
      await worker.waitForLog(new RegExp(`"msg":"${phase}"`));
      await worker.kill('SIGKILL');
      kills.push(phase);
      worker = new WorkerProcess(configFile, server.address);
    }
    writing = false;
    await writer;
    assert.ok(changes > 1000, `changes kept streaming across the kills (${changes})`);

    const deadline = Date.now() + 180_000;
    for (;;) {
      const s = await statuses().catch(() => null);
      if (s !== null && s.every((x) => x.lastError === null && x.events >= ROWS + changes)) break;
      if (Date.now() > deadline) assert.fail(`pipelines did not catch up: ${JSON.stringify(s)} (changes ${changes})`);
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const p of config.pipelines) await pipelineHandle(client, p.name).cancel();
    for (const p of config.pipelines) await pipelineHandle(client, p.name).result();
    await worker.kill('SIGTERM');

    const expected = (await pgc.query<{ id: number; v: number }>('SELECT id, v FROM e2e_k.items ORDER BY id')).rows;
    const merged = await duckQuery(path.join(dir, 'merge.duckdb'), 'SELECT id, v FROM e2e_k.items WHERE NOT __deleted ORDER BY id');
    assert.equal(merged.length, expected.length, 'MERGE row count equals the source');
    assert.deepEqual(merged, expected.map((r) => ({ id: r.id, v: r.v })), 'MERGE equals the source');

    const appended = await duckQuery(
      path.join(dir, 'append.duckdb'),
      `SELECT count(*) FILTER (WHERE __op <> 'snapshot')::INT AS n,
              count(DISTINCT (__position, __seq)) FILTER (WHERE __op <> 'snapshot')::INT AS distinct_events,
              count(*) FILTER (WHERE __op = 'snapshot')::INT AS snapshot
         FROM e2e_k.items`,
    );
    assert.equal(appended[0]!.snapshot, ROWS, 'the snapshot was copied exactly once');
    assert.equal(appended[0]!.n, changes, 'APPEND has exactly one row per change');
    assert.equal(appended[0]!.distinct_events, changes, 'no APPEND row is duplicated');
    assert.deepEqual(kills, ['load started', 'capture started', 'load started']);
  });
});
