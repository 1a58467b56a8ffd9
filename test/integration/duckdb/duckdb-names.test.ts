import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DestinationConflictError } from '../../../src/errors.js';
import { column, Harness, PIPELINE, row, schema } from './duckdb-kit.js';

describe('DuckDB destination, names DuckDB cannot tell apart', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.open();
  });
  after(async () => {
    await h.close();
  });

  const mapping = async (table: string): Promise<unknown> =>
    (await h.query(`SELECT duck_schema, duck_table, columns::VARCHAR AS columns FROM _ducktail.tables WHERE source_table = '${table.replaceAll("'", "''")}'`)).map((r) => ({
      ...r,
      columns: (JSON.parse(r.columns as string) as { source: string; duck: string }[]).map((c) => `${c.source}->${c.duck}`),
    }));

  test('tables and columns differing only in case get distinct DuckDB names, recorded in _ducktail.tables', async () => {
    const upper = schema('app.Mixed', [column('id', 'INTEGER'), column('A'), column('a'), column('Ä'), column('ä')]);
    const lower = schema('app.mixed', [column('id', 'INTEGER'), column('v')]);
    await h.apply([upper, row('app.Mixed', 'insert', ['1', 'big', 'small', 'AE', 'ae']), lower, row('app.mixed', 'insert', ['1', 'other'])]);
    assert.deepEqual(await mapping('app.Mixed'), [{ duck_schema: 'app', duck_table: 'Mixed', columns: ['id->id', 'A->A', 'a->a_2', 'Ä->Ä', 'ä->ä'] }]);
    assert.deepEqual(await mapping('app.mixed'), [{ duck_schema: 'app', duck_table: 'mixed_2', columns: ['id->id', 'v->v'] }]);
    assert.deepEqual(await h.query('SELECT id, "A", a_2, "Ä", "ä" FROM app."Mixed"'), [{ id: 1, A: 'big', a_2: 'small', Ä: 'AE', ä: 'ae' }]);
    assert.deepEqual(await h.query('SELECT id, v FROM app.mixed_2'), [{ id: 1, v: 'other' }]);
    // The mapping holds in later batches, whichever table comes first.
    await h.apply([lower, row('app.mixed', 'update', ['1', 'again']), upper, row('app.Mixed', 'update', ['1', 'B', 'b', null, null])]);
    assert.deepEqual(await h.query('SELECT v FROM app.mixed_2'), [{ v: 'again' }]);
    assert.deepEqual(await h.query('SELECT "A", a_2 FROM app."Mixed"'), [{ A: 'B', a_2: 'b' }]);
  });

  test('source columns named like bookkeeping columns, quotes, dots and spaces keep their values', async () => {
    const t = 'app.we"ird.na me';
    const s = schema(t, [column('id', 'INTEGER'), column('__deleted'), column('__OP'), column('__seq', 'BIGINT'), column('__position'), column('a "b".c')]);
    await h.apply([s, row(t, 'insert', ['1', 'd', 'o', '5', 'p', 'x']), row(t, 'delete', ['2', null, null, null, null, null])]);
    assert.deepEqual(await mapping(t), [
      { duck_schema: 'app', duck_table: 'we"ird.na me', columns: ['id->id', '__deleted->__deleted_2', '__OP->__OP_2', '__seq->__seq_2', '__position->__position_2', 'a "b".c->a "b".c'] },
    ]);
    assert.deepEqual(await h.query('SELECT id, __deleted_2, "__OP_2", __seq_2, __position_2, "a ""b"".c" AS abc, __deleted FROM app."we""ird.na me" ORDER BY id'), [
      { id: 1, __deleted_2: 'd', __OP_2: 'o', __seq_2: '5', __position_2: 'p', abc: 'x', __deleted: false },
      { id: 2, __deleted_2: null, __OP_2: null, __seq_2: null, __position_2: null, abc: null, __deleted: true },
    ]);
  });

  test('a table another pipeline writes is refused, naming the pipeline and the fix', async () => {
    const other = await h.asPipeline('p2');
    await assert.rejects(other.apply([schema('app.mixed', [column('id', 'INTEGER')]), row('app.mixed', 'insert', ['9'])]), (err: unknown) => {
      assert.ok(err instanceof DestinationConflictError);
      assert.match(err.message, /DuckDB table app\.mixed_2 holds app\.mixed for pipeline p1; pipeline p2 cannot write it too\n  fix: give one of the pipelines another destination\.path/s);
      return true;
    });
  });

  test('a table that is not Ducktail\'s is never written', async () => {
    await h.exec('CREATE TABLE app.mine (id INTEGER, note VARCHAR)');
    await assert.rejects(h.apply([schema('app.mine', [column('id', 'INTEGER')]), row('app.mine', 'insert', ['1'])]), (err: unknown) => {
      assert.ok(err instanceof DestinationConflictError);
      assert.match(err.message, /app\.mine exists but was not made by Ducktail/);
      return true;
    });
    assert.deepEqual(await h.query('SELECT count(*)::INT AS n FROM app.mine'), [{ n: 0 }]);
  });

  test('the mode is recorded; a pipeline cannot switch between merge and append on one file', async () => {
    await h.dest.registerPipeline(PIPELINE, 'merge');
    await h.dest.registerPipeline(PIPELINE, 'merge');
    await assert.rejects(h.dest.registerPipeline(PIPELINE, 'append'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /has loaded this DuckDB file in merge mode; it cannot continue in append mode/);
      assert.match(err.message, /fix: keep mode: merge, or give the pipeline a new destination\.path/);
      return true;
    });
    // Forgotten (teardown), the pipeline's merge tables still refuse append.
    await h.dest.forgetPipeline(PIPELINE);
    await assert.rejects(h.dest.registerPipeline(PIPELINE, 'append'), ConfigError);
    await h.dest.initCheckpoint(PIPELINE, h.checkpoint);
    await assert.rejects(h.apply([schema('app.mixed', [column('id', 'INTEGER'), column('v')]), row('app.mixed', 'insert', ['5', 'x'])], { mode: 'append' }), /holds merge rows/);
  });
});
