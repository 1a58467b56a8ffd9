import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addCounts, batchesPerRun, DEFAULT_BATCHES_PER_RUN, describeSnapshot, initialState, keepLast } from '../../../src/workflows/pipeline-state.js';

test('addCounts sums per table and operation', () => {
  const total = addCounts({ 'a.t': { insert: 2 } }, { 'a.t': { insert: 3, delete: 1 }, 'a.u': { update: 4 } });
  assert.deepEqual(total, { 'a.t': { insert: 5, delete: 1 }, 'a.u': { update: 4 } });
});

test('keepLast keeps the newest entries', () => {
  assert.deepEqual(keepLast([1, 2, 3], [4, 5], 3), [3, 4, 5]);
});

test('batchesPerRun comes from the memo when it is a positive integer', () => {
  assert.equal(batchesPerRun({ batchesPerRun: 4 }), 4);
  for (const memo of [undefined, {}, { batchesPerRun: 0 }, { batchesPerRun: 2.5 }, { batchesPerRun: '4' }]) {
    assert.equal(batchesPerRun(memo), DEFAULT_BATCHES_PER_RUN);
  }
});

test('describeSnapshot summarises table progress', () => {
  const state = initialState('2026-01-01T00:00:00Z');
  assert.equal(describeSnapshot(state), undefined);
  state.checkpoint = {
    position: null,
    batchId: 'b',
    snapshot: {
      tables: [
        { table: 'a.t', done: true, rows: 10 },
        { table: 'a.u', done: false, rows: 5 },
      ],
    },
  };
  assert.equal(describeSnapshot(state), '1/2 tables, 15 rows copied', 'a view kept by an older version lists every table');
  state.checkpoint = { position: null, batchId: 'b', snapshot: { tables: [{ table: 'a.u', done: false, rows: 5 }], total: 200, done: 150, rows: 1_000 } };
  assert.equal(describeSnapshot(state), '150/200 tables, 1000 rows copied');
});
