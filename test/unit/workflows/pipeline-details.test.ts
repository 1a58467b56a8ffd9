import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BatchSummary } from '../../../src/model/batch.js';
import { captureSummary, loadSummary, renderDetails } from '../../../src/workflows/pipeline-details.js';
import { initialState, type PipelineState } from '../../../src/workflows/pipeline-state.js';

const batch = (over: Partial<BatchSummary>): BatchSummary => ({
  batchId: 'b', spoolDir: '/x', counts: {}, events: 0, bytes: 0, lastCommitTs: null, schemaChanges: [], ...over,
});

const state = (over: Partial<PipelineState>): PipelineState => ({ ...initialState('2026-01-01T00:00:00.000Z'), ...over });

describe('what the Temporal UI shows of a pipeline', () => {
  test('activity summaries: the batch number, changes and tables; a position-only batch; snapshot captures', () => {
    const s = state({ phase: 'streaming', batches: 1041, position: '0/16B3748' });
    assert.equal(captureSummary(s), 'capture batch 1042 from 0/16B3748');
    assert.equal(captureSummary(state({ phase: 'snapshot' })), 'capture batch 1 (snapshot) from the checkpoint');
    const counts = { 'a.x': { insert: 98_000 }, 'a.y': { update: 300 }, 'a.z': { delete: 4 } };
    assert.equal(loadSummary(s, batch({ counts, events: 98_304 })), 'batch 1042: 98,304 changes, 3 tables');
    assert.equal(loadSummary(s, batch({ counts: { 'a.x': { insert: 1 } }, events: 1, schemaChanges: ['new table a.x'] })), 'batch 1042: 1 change, 1 table, 1 schema change');
    assert.equal(loadSummary(s, batch({})), 'batch 1042: no changes (moves the position)');
  });

  test('starting: says what is checked, and no route before the spec is validated', () => {
    const text = renderDetails(state({}), { pipeline: 'p' }, 0);
    assert.match(text, /^- \*\*Phase:\*\* starting: checking the input, the source and the destination\n- \*\*Position:\*\* none loaded yet/);
    assert.doesNotMatch(text, /Replicates|Lag|Last batch/);
  });

  test('failed: the error first, as text (markdown in it stays text), with how to go on', () => {
    const text = renderDetails(
      state({ phase: 'failed', lastError: { type: 'BadValueError', message: 'bad *value* ``` here\n  fix: fix it', at: '2026-01-01T00:01:00.000Z' } }),
      { pipeline: 'shop', route: 'postgres://u@h:5432/d → /f.duckdb (merge)' },
      0,
    );
    assert.match(text, /^### Failed: BadValueError\n\nThe pipeline is parked until the cause is fixed; then send the signal `resume` \(or `ducktail resume shop`\)/);
    assert.match(text, /\*\*Last error\*\* \(2026-01-01T00:01:00.000Z\):\n\n```\nbad \*value\* ''' here\n {2}fix: fix it\n```\n\n- \*\*Phase:\*\* failed\n- \*\*Replicates:\*\* postgres/);
  });

  test('progress: snapshot, re-sync, requested copies, tables needing a re-sync, the step, warnings, a pause not yet taken', () => {
    const text = renderDetails(
      state({
        phase: 'snapshot',
        paused: true,
        checkpoint: {
          position: null, batchId: '',
          snapshot: { tables: [], total: 5, done: 3, rows: 1234 },
          backfill: { tables: [{ table: 'a.t', reason: 'resync', rows: 10, chunks: 1 }], accepted: [] },
        },
        backfillRequests: [{ id: 'q', tables: ['a.u'], reason: 'resync' }],
        resync: ['a.v: column added with a volatile default'],
        step: { activity: 'captureBatch', since: '2026-01-01T00:02:00.000Z' },
        warnings: ['w1'],
      }),
      { pipeline: 'p' },
      0,
    );
    assert.match(text, /\*\*Phase:\*\* snapshot \(pausing after the current step\)/);
    assert.match(text, /\*\*Snapshot:\*\* 3\/5 tables, 1234 rows copied/);
    assert.match(text, /\*\*Re-sync:\*\* a\.t \(resync\): 10 rows copied in 1 chunks/);
    assert.match(text, /\*\*Re-sync requested:\*\* a\.u/);
    assert.match(text, /\*\*Needs a re-sync:\*\* a\.v: column added/);
    assert.match(text, /\*\*Now:\*\* captureBatch since 2026-01-01T00:02:00.000Z/);
    assert.match(text, /\*\*Warning:\*\* w1/);
  });
});
