import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BackfillProgress, Checkpoint } from '../../../src/model/checkpoint.js';
import type { TableSchema } from '../../../src/model/table-schema.js';
import { advanceBackfill, ChunkTracker, ChunkWindow, parseWatermark, withRequests, watermarkText } from '../../../src/sources/backfill.js';
import type { BatchSink } from '../../../src/sources/source-connector.js';
import { describeBackfill } from '../../../src/workflows/pipeline-state.js';

const schema: TableSchema = {
  table: 'public.t',
  columns: [
    { name: 'v', sourceType: 'text', duckType: 'VARCHAR', encoding: 'text' },
    { name: 'id', sourceType: 'int4', duckType: 'INTEGER', encoding: 'text' },
  ],
  primaryKey: ['id'],
};
const streamed: TableSchema = { ...schema, columns: [schema.columns[1]!, schema.columns[0]!] }; // same table, other column order

function sink(): BatchSink & { begun: string[] } {
  const begun: string[] = [];
  return { begun, beginBackfill: (t: string) => begun.push(t) } as unknown as BatchSink & { begun: string[] };
}

const position = { kind: 'pg' as const, lsn: '0/10', ackLsn: '0/10' };

describe('incremental copies (backfill)', () => {
  test('a chunk writes at its high watermark only the rows no change touched between the watermarks', () => {
    const entry = { table: 'public.t', reason: 'resync' as const, rows: 0, chunks: 0 };
    const w = new ChunkWindow('c1', entry, { schema, rows: [['a', '1'], ['b', '2'], ['c', '3'], ['d', '4']], lastKey: ['4'], last: false });
    w.touched(streamed, ['1', 'x']); // before the low watermark: the read came after it, so the row stays
    const s = sink();
    w.low(s);
    assert.deepEqual(s.begun, ['public.t'], 'the first chunk begins the copy');
    w.touched(streamed, ['2', 'y']); // changed between the watermarks: the stream brings it
    w.touched(schema, ['z', '9'], ['3']); // its key moved away: the old key must not come back
    assert.deepEqual([...w.rows()], [['a', '1'], ['d', '4']]);
    w.truncated();
    assert.deepEqual([...w.rows()], [], 'a truncate between the watermarks leaves nothing of the chunk');
    assert.deepEqual(w.done('2026-01-01T00:00:00.000Z'), { table: 'public.t', rows: 4, lastKey: ['4'], last: false, startedAt: '2026-01-01T00:00:00.000Z' });
  });

  test('a repair of listed keys deletes those the source did not return and no change touched, and ends no copy', () => {
    const entry = { table: 'public.t', reason: 'repair' as const, rows: 0, chunks: 0, keys: [['1'], ['2'], ['3'], ['4']] };
    const w = new ChunkWindow('c3', entry, { schema, rows: [['a', '1']], lastKey: undefined, last: true });
    const s = sink();
    w.low(s);
    assert.deepEqual(s.begun, [], 'a repair remembers no unseen keys');
    w.touched(streamed, ['2', 'x']); // changed meanwhile: the stream says what it is
    assert.deepEqual(w.gone(), [[undefined, '3'], [undefined, '4']], 'keys 3 and 4 are gone at the source');
    assert.equal(w.endsCopy, false);
    w.truncated();
    assert.deepEqual(w.gone(), [], 'after a truncate the stream has deleted them all');
  });

  test('later chunks do not begin the copy again', () => {
    const s = sink();
    new ChunkWindow('c2', { table: 'public.t', reason: 'resync', rows: 4, chunks: 1, lastKey: ['4'] }, { schema, rows: [], lastKey: ['4'], last: true }).low(s);
    assert.deepEqual(s.begun, []);
  });

  test('requests are taken in once, a table asked again starts over, and none while the initial snapshot runs', () => {
    const from: Checkpoint = { position, batchId: 'b1' };
    const one = withRequests(from, [{ id: 'r1', tables: ['public.t', 'public.u'], reason: 'resync' }]);
    assert.deepEqual(one.backfill, {
      tables: [
        { table: 'public.t', reason: 'resync', rows: 0, chunks: 0 },
        { table: 'public.u', reason: 'resync', rows: 0, chunks: 0 },
      ],
      accepted: ['r1'],
    });
    assert.equal(withRequests(one, [{ id: 'r1', tables: ['public.t'], reason: 'resync' }]), one, 'a request already taken in changes nothing');
    const progressed = { ...one, backfill: advanceBackfill(one.backfill, { table: 'public.t', rows: 10, lastKey: ['10'], last: false, startedAt: 'x', estimate: 50 }) };
    const again = withRequests(progressed, [{ id: 'r2', tables: ['public.t'], reason: 'resync' }]);
    assert.deepEqual(again.backfill?.tables.map((t) => [t.table, t.rows]), [['public.u', 0], ['public.t', 0]]);
    const snapshotting: Checkpoint = { position: null, batchId: '', snapshot: { startPosition: position, tables: [], consistent: true } };
    assert.equal(withRequests(snapshotting, [{ id: 'r3', tables: ['public.t'], reason: 'resync' }]), snapshotting);
  });

  test('progress advances per chunk and the finished table leaves the list', () => {
    let p: BackfillProgress = { tables: [{ table: 'public.t', reason: 'resync', rows: 0, chunks: 0 }], accepted: ['r1'] };
    p = advanceBackfill(p, { table: 'public.t', rows: 100, lastKey: ['100'], last: false, startedAt: '2026-01-01T00:00:00.000Z', estimate: 1000 });
    assert.deepEqual(p.tables, [{ table: 'public.t', reason: 'resync', rows: 100, chunks: 1, lastKey: ['100'], startedAt: '2026-01-01T00:00:00.000Z', estimate: 1000 }]);
    assert.equal(
      describeBackfill(p, Date.parse('2026-01-01T00:00:10.000Z')),
      'public.t (resync): 100/~1,000 rows copied in 1 chunks, about 90 s left',
    );
    p = advanceBackfill(p, { table: 'public.t', rows: 5, lastKey: ['105'], last: true, startedAt: 'later' });
    assert.deepEqual(p.tables, []);
    assert.equal(describeBackfill(p, 0), undefined);
  });

  test('a chunk in flight continues only in the capture that starts where the last one ended', () => {
    const entry = { table: 'public.t', reason: 'resync' as const, rows: 0, chunks: 0 };
    const from: Checkpoint = { position, batchId: 'b1', backfill: { tables: [entry], accepted: [] } };
    const tracker = new ChunkTracker();
    assert.equal(tracker.resume(from), null);
    tracker.window = new ChunkWindow('c1', entry, { schema, rows: [], lastKey: undefined, last: true });
    const to: Checkpoint = { ...from, position: { ...position, lsn: '0/20', ackLsn: '0/20' } };
    tracker.ended(to);
    assert.equal(tracker.resume({ ...to, batchId: 'b2' }), tracker.window, 'the next capture goes on with it');
    tracker.ended(to);
    assert.equal(tracker.resume(from), null, 'a capture from elsewhere (the batch was not loaded) reads the chunk again');
  });

  test('watermarks of other tools are not ours', () => {
    assert.deepEqual(parseWatermark(watermarkText({ chunk: 'c1', mark: 'high' })), { chunk: 'c1', mark: 'high' });
    assert.equal(parseWatermark('{"chunk":1}'), null);
    assert.equal(parseWatermark('not json'), null);
  });
});
