import assert from 'node:assert/strict';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { closeAllDuckDBDestinations, openDuckDBDestination } from '../../src/destinations/duckdb/duckdb-destination.js';
import { spoolRoot } from '../../src/staging/spool-paths.js';
import { holdDuckDBFile, releaseHeldFile } from '../helpers/duckdb.js';
import { pgE2E } from '../helpers/pg-e2e.js';
import { fileSpec, startPipelineWorkflow, waitForStatus } from '../helpers/pipelines.js';
import { PG_HOST, PG_PORT, PG_USER } from '../helpers/postgres.js';
import { inProcessWorker, runCli } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';

const DB = 'ducktail_e2e';
const TQ = 'e2e-teardown';

describe('ducktail stop and teardown (real PostgreSQL, DuckDB, Temporal)', () => {
  const h = pgE2E({ taskQueue: TQ, slotPrefix: 'ducktail_e2e_td', schemaSql: 'DROP SCHEMA IF EXISTS e2e_td CASCADE; CREATE SCHEMA e2e_td; CREATE TABLE e2e_td.t (id int PRIMARY KEY); INSERT INTO e2e_td.t SELECT generate_series(1, 10)' });

  test('refuses while running or while the DuckDB file is held, changing nothing; then removes slot, publication and checkpoint', async () => {
    const configFile = path.join(h.dir, 'ducktail.yaml');
    await writeFile(
      configFile,
      stringify({
        temporal: { taskQueue: TQ },
        pipelines: [{ name: 'e2e_td', source: { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: DB, tables: ['e2e_td.t'] }, destination: { path: 'td.duckdb' } }],
      }),
    );
    const [spec] = (await loadConfig(configFile)).pipelines.map(fileSpec);
    assert.ok(spec);
    await startPipelineWorkflow(h.server.env.client, TQ, spec);
    await waitForStatus(h.server.env.client, 'e2e_td', 'snapshot loaded', (s) => s.events === 10);
    const cli = (...args: string[]) => runCli(['--config', configFile, '--address', h.server.address, ...args]);
    const slots = async () => (await h.pgc.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = 'ducktail_e2e_td'`)).rowCount;

    const running = await cli('teardown', 'e2e_td');
    assert.equal(running.code, 1);
    assert.match(running.stderr, /pipeline e2e_td is running[\s\S]*ducktail stop e2e_td/);

    const stopped = await cli('stop', 'e2e_td');
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /e2e_td: stopped/);

    // Someone holds the DuckDB file (a user's session): teardown must fail before touching the source.
    // (It waits for the file up to 15 s first, as loads do, so a short query does not fail it.)
    const holder = await waitFor('the file released by the worker', () => holdDuckDBFile(spec.destination.path), { timeoutMs: 10_000 });
    try {
      const held = await cli('teardown', 'e2e_td');
      assert.equal(held.code, 1, held.stdout + held.stderr);
      assert.match(held.stderr, /td\.duckdb is open in another process/);
      assert.equal(await slots(), 1, 'the slot survives a failed teardown');
    } finally {
      await releaseHeldFile(holder);
    }

    await h.worker.stop();
    await closeAllDuckDBDestinations();
    // A batch staged but never loaded (a worker stopped between capture and load).
    const leftover = path.join(spoolRoot(spec), 'never-loaded');
    await mkdir(leftover, { recursive: true });
    await writeFile(path.join(leftover, 'manifest.json'), '{}');
    const done = await cli('teardown', 'e2e_td');
    assert.equal(done.code, 0, done.stderr);
    assert.equal(await slots(), 0, 'the slot is dropped');
    const pubs = await h.pgc.query(`SELECT 1 FROM pg_publication WHERE pubname = 'ducktail_e2e_td'`);
    assert.equal(pubs.rowCount, 0, 'the publication is dropped');
    const dest = await openDuckDBDestination(spec.destination.path);
    assert.equal(await dest.readCheckpoint('e2e_td'), null, 'the checkpoint is forgotten');
    await assert.rejects(stat(spoolRoot(spec)), /ENOENT/, 'its staged batches are removed');
    await dest.close();
    h.worker = await inProcessWorker(h.server, TQ);
  });
});
