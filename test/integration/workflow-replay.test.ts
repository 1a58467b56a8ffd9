import { readdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { workflowsPath } from '../../src/temporal/workflow-bundle.js';

const dir = new URL('../fixtures/histories/', import.meta.url);

/**
 * Replays recorded pipeline histories against the current workflow code: a change that would
 * break running pipelines (non-determinism) fails here. Each history is recorded by the test that
 * ran its pipeline, when `DUCKTAIL_RECORD_HISTORY=1`:
 *
 * - `pipeline-merge-final-run.json` (PostgreSQL MERGE, last run: state carried by continue-as-new,
 *   pause and resume signals, cancel):
 *   `DUCKTAIL_RECORD_HISTORY=1 npm test -- test/e2e/postgres-merge-append.test.ts`
 * - `pipeline-mysql-merge-final-run.json` (MySQL MERGE, last run: a binlog position in the carried
 *   state, cancel): `DUCKTAIL_RECORD_HISTORY=1 npm test -- test/e2e/mysql-merge-append.test.ts`
 * - `pipeline-paused-observed-parked.json` (PostgreSQL, first run: what the source retains observed
 *   while paused, the observation cancelled by resume, a lost slot seen by one parks the pipeline,
 *   cancel while parked): `DUCKTAIL_RECORD_HISTORY=1 npm test -- test/e2e/retention-guard.test.ts`
 * - `pipeline-catch-up-parked-resumed.json` (mocked activities: a catch-up run parks on a
 *   non-retryable load failure, is resumed, and completes as caught-up):
 *   `DUCKTAIL_RECORD_HISTORY=1 npm test -- test/integration/workflow-paths.test.ts`
 *
 * Recording overwrites the file. After a deliberate workflow change, keep the old history under
 * another name: running pipelines still have that shape.
 */
test('recorded pipeline histories replay against the current workflow code', async () => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
  if (files.length === 0) throw new Error('no recorded histories in test/fixtures/histories');
  for (const file of files) {
    const history = historyFromJSON(JSON.parse(await readFile(new URL(file, dir), 'utf8')));
    try {
      await Worker.runReplayHistory({ workflowsPath: workflowsPath() }, history, file);
    } catch (err) {
      throw new Error(`replaying test/fixtures/histories/${file}: ${(err as Error).message}`, { cause: err });
    }
  }
});
