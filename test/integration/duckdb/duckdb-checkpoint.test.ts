import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { BadValueError, StaleBatchError } from '../../../src/errors.js';
import { openDuckDBDestination } from '../../../src/destinations/duckdb/duckdb-destination.js';
import type { Checkpoint } from '../../../src/model/checkpoint.js';
import { column, Harness, PIPELINE, row, schema } from './duckdb-kit.js';

const T = 'ck.t';
const t = schema(T, [column('id', 'INTEGER'), column('v', 'INTEGER')]);

describe('DuckDB destination, checkpoints and atomicity', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.open();
  });
  after(async () => {
    await h.close();
  });

  test('initCheckpoint stores the first checkpoint only and returns the stored one', async () => {
    assert.equal(await h.dest.readCheckpoint('other'), null);
    const first: Checkpoint = { position: { kind: 'mysql', file: 'b.000001', pos: 4 }, batchId: '' };
    assert.deepEqual(await h.dest.initCheckpoint('other', first), first);
    assert.deepEqual(await h.dest.initCheckpoint('other', { position: null, batchId: '' }), first);
    assert.deepEqual(await h.dest.readCheckpoint('other'), first);
  });

  test('a batch commits rows, checkpoint and batch log together; heartbeats while it runs', async () => {
    let beats = 0;
    const result = await h.apply([t, row(T, 'insert', ['1', '10'])], { heartbeat: () => beats++ });
    assert.equal(result.skipped, false);
    assert.deepEqual(result.counts, { [T]: { insert: 1 } });
    assert.ok(beats >= 1);
    assert.deepEqual(await h.dest.readCheckpoint(PIPELINE), result.checkpoint);
    assert.deepEqual(await h.query('SELECT pipeline, batch_id, events, counts::VARCHAR AS counts FROM _ducktail.batches'), [
      { pipeline: PIPELINE, batch_id: 'b1', events: '1', counts: JSON.stringify({ [T]: { insert: 1 } }) },
    ]);
  });

  test('a batch that does not start at the stored checkpoint is stale', async () => {
    const { manifest, spoolDir } = await h.stage([t, row(T, 'insert', ['2', '20'])]);
    const wrongFrom = { ...manifest, from: { position: null, batchId: 'elsewhere' } };
    await assert.rejects(h.applyStaged(wrongFrom, spoolDir), StaleBatchError);
    await assert.rejects(h.applyStaged({ ...manifest, pipeline: 'never-initialised' }, spoolDir), StaleBatchError);
    assert.deepEqual(await h.query('SELECT count(*)::INT AS n FROM ck.t'), [{ n: 1 }]);
    await h.applyStaged(manifest, spoolDir);
    assert.deepEqual(await h.query('SELECT count(*)::INT AS n FROM ck.t'), [{ n: 2 }]);
  });

  test('a value that cannot be cast fails the whole batch: rows, new tables and checkpoint unchanged', async () => {
    const before = await h.dest.readCheckpoint(PIPELINE);
    const other = schema('ck.fresh', [column('id', 'INTEGER')]);
    const { manifest, spoolDir } = await h.stage([
      schema(T, [...t.columns, column('added')]),
      row(T, 'update', ['1', '11', 'a']),
      other,
      row('ck.fresh', 'insert', ['1']),
      row(T, 'insert', ['3', 'abc', 'x']),
    ]);
    await assert.rejects(h.applyStaged(manifest, spoolDir), (err: unknown) => {
      assert.ok(err instanceof BadValueError);
      assert.match(err.message, /ck\.t/);
      assert.match(err.message, /abc/);
      return true;
    });
    assert.deepEqual(await h.dest.readCheckpoint(PIPELINE), before);
    assert.deepEqual(await h.query('SELECT id, v FROM ck.t ORDER BY id'), [{ id: 1, v: 10 }, { id: 2, v: 20 }]);
    assert.deepEqual(await h.query("SELECT count(*)::INT AS n FROM duckdb_tables() WHERE table_name = 'fresh'"), [{ n: 0 }]);
    assert.deepEqual(await h.query("SELECT count(*)::INT AS n FROM duckdb_columns() WHERE column_name = 'added'"), [{ n: 0 }]);
    assert.deepEqual(await h.query("SELECT count(*)::INT AS n FROM _ducktail.batches WHERE batch_id = 'b3'"), [{ n: 0 }]);
  });

  test('a missing spool file makes the batch stale', async () => {
    const { manifest, spoolDir } = await h.stage([t, row(T, 'insert', ['5', '50'])]);
    await assert.rejects(h.applyStaged(manifest, path.join(spoolDir, 'gone')), StaleBatchError);
  });

  test('forgetPipeline removes checkpoint and batch log, not data', async () => {
    await h.dest.forgetPipeline(PIPELINE);
    assert.equal(await h.dest.readCheckpoint(PIPELINE), null);
    assert.deepEqual(await h.query(`SELECT count(*)::INT AS n FROM _ducktail.batches WHERE pipeline = '${PIPELINE}'`), [{ n: 0 }]);
    assert.deepEqual(await h.query('SELECT count(*)::INT AS n FROM ck.t'), [{ n: 2 }]);
  });

  test('openDuckDBDestination shares one destination per absolute path', async () => {
    const relative = path.relative(process.cwd(), h.dest.path);
    assert.equal(await openDuckDBDestination(relative), h.dest);
  });
});
