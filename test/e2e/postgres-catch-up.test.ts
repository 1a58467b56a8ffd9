import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { duckQuery } from '../helpers/duckdb.js';
import { fileSpec, startPipelineWorkflow } from '../helpers/pipelines.js';
import { pgE2E } from '../helpers/pg-e2e.js';
import { PG_HOST, PG_PORT, PG_USER } from '../helpers/postgres.js';
import { runCli } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';
import { PIPELINE_WORKFLOW_TYPE, workflowId } from '../../src/temporal/pipeline-contract.js';

const DB = 'ducktail_e2e';
const TQ = 'e2e-catch-up';

describe('catch-up runs and Temporal Schedules (real PostgreSQL, DuckDB, Temporal)', () => {
  const h = pgE2E({ taskQueue: TQ, slotPrefix: 'ducktail_e2e_cu', schemaSql: `DROP SCHEMA IF EXISTS e2e_cu CASCADE; CREATE SCHEMA e2e_cu; CREATE TABLE e2e_cu.t (id int PRIMARY KEY, v text);
      INSERT INTO e2e_cu.t SELECT g, 'v' FROM generate_series(1, 50) g` });

  test('a catch-up run loads what the source had at its start and completes; a schedule runs the next ones', async () => {
    const configFile = path.join(h.dir, 'ducktail.yaml');
    await writeFile(
      configFile,
      stringify({
        temporal: { taskQueue: TQ },
        pipelines: [
          {
            name: 'e2e_cu',
            source: { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: DB, tables: ['e2e_cu.t'] },
            destination: { path: 'cu.duckdb' },
            batch: { maxRows: 20, idleWaitMs: 500 },
          },
        ],
      }),
    );
    const [spec] = (await loadConfig(configFile)).pipelines.map(fileSpec);
    assert.ok(spec);
    const file = spec.destination.path;
    const count = async () => Number((await duckQuery(file, 'SELECT count(*) AS n FROM e2e_cu.t WHERE NOT __deleted'))[0]?.n ?? -1);

    const handle = await startPipelineWorkflow(h.server.env.client, TQ, spec, { catchUp: true });
    // Changes made while the run is under way but after its target may or may not be included.
    const first = (await handle.result());
    assert.equal(first.phase, 'caught-up');
    assert.equal(await count(), 50);

    await h.pgc.query(`INSERT INTO e2e_cu.t SELECT g, 'later' FROM generate_series(51, 80) g`);
    await h.pgc.query(`UPDATE e2e_cu.t SET v = 'changed' WHERE id <= 5`);
    const cli = (...args: string[]) => runCli(['--config', configFile, '--address', h.server.address, ...args]);
    const created = await cli('schedule', 'e2e_cu', '--every', '2s');
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /schedule ducktail-e2e_cu-catch-up created/);
    try {
      await waitFor('a scheduled catch-up run loads the new rows', async () => ((await count().catch(() => 0)) === 80 ? true : undefined), { timeoutMs: 60_000 });
      const changed = await duckQuery(file, `SELECT count(*)::INT AS n FROM e2e_cu.t WHERE v = 'changed'`);
      assert.equal(changed[0]!.n, 5);
    } finally {
      const deleted = await cli('schedule', 'e2e_cu', '--delete');
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.match(deleted.stdout, /schedule deleted/);
    }
    const bad = await cli('schedule', 'e2e_cu', '--every', 'hourly');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /write a whole number and a unit: 30s, 15m, 1h or 7d/);
  });

  test('a malformed spec started from the UI fails the run with an InvalidSpecError naming the field (only a new start can fix it)', async () => {
    const spec = { name: 'e2e_cu_bad', source: { kind: 'postgres', tables: ['no_schema'] }, destination: { path: path.join(h.dir, 'bad.duckdb') } };
    const handle = await h.server.env.client.workflow.start(PIPELINE_WORKFLOW_TYPE, { taskQueue: TQ, workflowId: workflowId('e2e_cu_bad'), args: [{ spec }] });
    const err = await handle.result().then(() => assert.fail('the run should fail'), (e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
    assert.equal(err.cause.type, 'InvalidSpecError');
    assert.match(err.cause.message, /source\.tables\[0\]: write tables as schema\.table/);
    assert.equal((await handle.describe()).status.name, 'FAILED');
  });
});
