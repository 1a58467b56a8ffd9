import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { column, Harness, row, schema } from './duckdb-kit.js';

async function columnTypes(h: Harness, table: string): Promise<Record<string, string>> {
  const rows = await h.query(
    `SELECT column_name AS c, data_type AS t FROM duckdb_columns() WHERE table_name = '${table}' ORDER BY column_index`,
  );
  return Object.fromEntries(rows.map((r) => [r.c as string, r.t as string]));
}

describe('DuckDB destination, schema evolution', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.open();
  });
  after(async () => {
    await h.close();
  });

  test('creates schema and table without keys or indexes; merge bookkeeping columns follow the source ones', async () => {
    await h.apply([schema('evo.a', [column('id', 'INTEGER'), column('v', 'INTEGER')]), row('evo.a', 'insert', ['1', '10'])]);
    assert.deepEqual(await columnTypes(h, 'a'), {
      id: 'INTEGER', v: 'INTEGER', __deleted: 'BOOLEAN', __op: 'VARCHAR', __position: 'VARCHAR', __commit_ts: 'TIMESTAMP WITH TIME ZONE',
    });
    assert.deepEqual(await h.query("SELECT count(*)::INT AS n FROM duckdb_constraints() WHERE table_name = 'a'"), [{ n: 0 }]);
    assert.deepEqual(await h.query("SELECT count(*)::INT AS n FROM duckdb_indexes() WHERE table_name = 'a'"), [{ n: 0 }]);
  });

  test('adds a column mid-batch: two segments of one table, earlier rows read NULL', async () => {
    const v1 = schema('evo.a', [column('id', 'INTEGER'), column('v', 'INTEGER')]);
    const v2 = schema('evo.a', [...v1.columns, column('note')]);
    await h.apply([v1, row('evo.a', 'insert', ['2', '20']), v2, row('evo.a', 'insert', ['3', '30', 'hi']), row('evo.a', 'update', ['2', '21', 'yo'])]);
    assert.equal((await columnTypes(h, 'a')).note, 'VARCHAR');
    assert.deepEqual(await h.query('SELECT id, v, note FROM evo.a ORDER BY id'), [
      { id: 1, v: 10, note: null },
      { id: 2, v: 21, note: 'yo' },
      { id: 3, v: 30, note: 'hi' },
    ]);
  });

  test('widens INTEGER to BIGINT and DECIMAL(10,2) to DECIMAL(18,2), keeping the data', async () => {
    const t = 'evo.w';
    await h.apply([
      schema(t, [column('id', 'INTEGER'), column('amount', 'DECIMAL(10,2)')]),
      row(t, 'insert', ['2147483647', '12345678.91']),
    ]);
    await h.apply([
      schema(t, [column('id', 'BIGINT'), column('amount', 'DECIMAL(18,2)')]),
      row(t, 'insert', ['9223372036854775807', '1234567890123456.78']),
    ]);
    const types = await columnTypes(h, 'w');
    assert.equal(types.id, 'BIGINT');
    assert.equal(types.amount, 'DECIMAL(18,2)');
    assert.deepEqual(await h.query('SELECT id::VARCHAR AS id, amount::VARCHAR AS amount FROM evo.w ORDER BY id'), [
      { id: '2147483647', amount: '12345678.91' },
      { id: '9223372036854775807', amount: '1234567890123456.78' },
    ]);
  });

  test('keeps a wider type when the source narrows, and falls back to VARCHAR when types are unrelated', async () => {
    const t = 'evo.n';
    await h.apply([schema(t, [column('id', 'BIGINT'), column('at', 'DATE')]), row(t, 'insert', ['1', '2024-02-29'])]);
    await h.apply([schema(t, [column('id', 'INTEGER'), column('at', 'INTEGER')]), row(t, 'insert', ['2', '42'])]);
    const types = await columnTypes(h, 'n');
    assert.equal(types.id, 'BIGINT');
    assert.equal(types.at, 'VARCHAR');
    assert.deepEqual(await h.query('SELECT id, "at" FROM evo.n ORDER BY id'), [
      { id: '1', at: '2024-02-29' },
      { id: '2', at: '42' },
    ]);
  });

  test('a dropped column is kept: untouched rows keep their values, changed and new rows get NULL', async () => {
    const t = 'evo.d';
    await h.apply([
      schema(t, [column('id', 'INTEGER'), column('gone'), column('v')]),
      row(t, 'insert', ['1', 'old', 'a']),
      row(t, 'insert', ['3', 'kept', 'z']),
    ]);
    await h.apply([
      schema(t, [column('id', 'INTEGER'), column('v')]),
      row(t, 'update', ['1', 'b']),
      row(t, 'insert', ['2', 'c']),
    ]);
    assert.deepEqual(await h.query('SELECT id, gone, v FROM evo.d ORDER BY id'), [
      { id: 1, gone: null, v: 'b' },
      { id: 2, gone: null, v: 'c' },
      { id: 3, gone: 'kept', v: 'z' },
    ]);
  });

  test('a column whose name differs only in case is the same DuckDB column', async () => {
    const t = 'evo.c';
    await h.apply([schema(t, [column('id', 'INTEGER'), column('Name')]), row(t, 'insert', ['1', 'x'])]);
    await h.apply([schema(t, [column('id', 'INTEGER'), column('name')]), row(t, 'insert', ['2', 'y'])]);
    assert.deepEqual(await h.query('SELECT id, "Name" AS n FROM evo.c ORDER BY id'), [{ id: 1, n: 'x' }, { id: 2, n: 'y' }]);
  });
});
