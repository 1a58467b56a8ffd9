import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { PipelineSpec } from '../../src/model/pipeline-spec.js';
import { pipelineHandle, specQuery, startPipelineWorkflow } from '../../src/temporal/pipeline-contract.js';
import { pgE2E } from '../helpers/pg-e2e.js';
import { waitForStatus } from '../helpers/pipelines.js';
import { PG_HOST, PG_PORT, PG_USER } from '../helpers/postgres.js';

const DB = 'ducktail_e2e';
const TQ = 'e2e-ui-start';

describe('a pipeline started with input typed into the Temporal UI (real PostgreSQL, DuckDB, Temporal)', () => {
  const h = pgE2E({ taskQueue: TQ, slotPrefix: 'ducktail_e2e_ui', schemaSql: 'DROP SCHEMA IF EXISTS e2e_ui CASCADE; CREATE SCHEMA e2e_ui; CREATE TABLE e2e_ui.t (id int PRIMARY KEY); INSERT INTO e2e_ui.t SELECT generate_series(1, 5)' });

  test('input without the defaults: the workflow runs on the validated spec, defaults filled', async () => {
    // What a user types into the Start Workflow form: only what has no default.
    const raw = {
      name: 'e2e_ui',
      source: { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: DB, tables: ['e2e_ui.t'] },
      destination: { path: path.join(h.dir, 'ui.duckdb') },
    } as unknown as PipelineSpec;
    await startPipelineWorkflow(h.server.env.client, TQ, { spec: raw });
    const s = await waitForStatus(h.server.env.client, 'e2e_ui', 'the snapshot loaded', (x) => x.events === 5, 90_000);
    assert.equal(s.source, `postgres://${PG_USER}@${PG_HOST}:${PG_PORT}/${DB}`);
    assert.equal(s.mode, 'merge');
    const spec = await pipelineHandle(h.server.env.client, 'e2e_ui').query(specQuery);
    assert.equal(spec.mode, 'merge');
    assert.equal(typeof spec.batch.maxRows, 'number');
    assert.equal(spec.source.kind === 'postgres' ? spec.source.slot : '', 'ducktail_e2e_ui');
    await pipelineHandle(h.server.env.client, 'e2e_ui').cancel();
  });
});
