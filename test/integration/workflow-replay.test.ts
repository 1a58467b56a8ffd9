import { readdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { workflowsPath } from '../../src/temporal/workflow-bundle.js';

const dir = new URL('../fixtures/histories/', import.meta.url);

/**
 * Replays recorded pipeline histories against the current workflow code: a change that would
 * break running pipelines (non-determinism) fails here. Record new ones with
 * `DUCKTAIL_RECORD_HISTORY=1 npm test -- test/e2e/postgres-merge-append.test.ts`.
 */
test('recorded pipeline histories replay against the current workflow code', async () => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
  if (files.length === 0) throw new Error('no recorded histories in test/fixtures/histories');
  for (const file of files) {
    const history = historyFromJSON(JSON.parse(await readFile(new URL(file, dir), 'utf8')));
    await Worker.runReplayHistory({ workflowsPath: workflowsPath() }, history, file);
  }
});
