import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { column, Harness, row, schema } from './duckdb-kit.js';

const T = 'shop.items';
const items = schema(T, [column('id', 'INTEGER'), column('name')]);
const live = 'SELECT id, name, __op FROM shop.items WHERE NOT __deleted ORDER BY id';

describe('DuckDB destination, incremental copy (resync) in merge mode', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.open();
  });
  after(async () => {
    await h.close();
  });

  test('rows neither changed nor copied since the copy began end deleted at its end; nothing else', async () => {
    await h.apply([items, ...['1', '2', '3', '4', '5'].map((id) => row(T, 'insert', [id, `n${id}`], '0/1'))]);
    await h.exec("UPDATE shop.items SET name = 'tampered' WHERE id = 2");
    // Batch with the copy's begin, a change of key 3 after it, and the first chunk (keys 1, 2).
    await h.apply([
      items,
      row(T, 'update', ['5', 'n5b'], '0/2'),
      { backfill: 'begin', table: T },
      row(T, 'update', ['3', 'n3b'], '0/3'),
      row(T, 'snapshot', ['1', 'n1'], '0/4', null),
      row(T, 'snapshot', ['2', 'n2'], '0/4', null),
    ]);
    assert.deepEqual(await h.query("SELECT count(*)::INT AS n FROM duckdb_tables() WHERE schema_name = '_ducktail' AND starts_with(table_name, 'unseen ')"), [{ n: 1 }]);
    // The last chunk: key 5 (key 4 is gone at the source, key 6 is new), then the end.
    await h.apply([
      items,
      row(T, 'snapshot', ['5', 'n5b'], '0/5', null),
      row(T, 'snapshot', ['6', 'n6'], '0/5', null),
      { backfill: 'end', table: T, position: '0/5' },
    ]);
    assert.deepEqual(await h.query(live), [
      { id: 1, name: 'n1', __op: 'snapshot' },
      { id: 2, name: 'n2', __op: 'snapshot' },
      { id: 3, name: 'n3b', __op: 'update' },
      { id: 5, name: 'n5b', __op: 'snapshot' },
      { id: 6, name: 'n6', __op: 'snapshot' },
    ]);
    assert.deepEqual(await h.query("SELECT __deleted, __op, __position FROM shop.items WHERE id = 4"), [{ __deleted: true, __op: 'delete', __position: '0/5' }]);
    assert.deepEqual(await h.query("SELECT count(*)::INT AS n FROM duckdb_tables() WHERE schema_name = '_ducktail' AND starts_with(table_name, 'unseen ')"), [{ n: 0 }]);
  });
});
