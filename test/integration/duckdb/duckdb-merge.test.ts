import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { column, Harness, row, schema, truncate } from './duckdb-kit.js';

const T = 'shop.items';
const items = schema(T, [column('id', 'INTEGER'), column('name'), column('doc'), column('qty', 'INTEGER')]);
const select = `SELECT id, name, doc, qty, __deleted, __op, __position, CAST(__commit_ts AS VARCHAR) AS ts
  FROM shop.items ORDER BY id`;

describe('DuckDB destination, merge mode', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.open();
  });
  after(async () => {
    await h.close();
  });

  test('inserts, updates, soft-deletes and revives one row per key', async () => {
    await h.apply([
      items,
      row(T, 'insert', ['1', 'apple', 'd1', '5'], '0/1'),
      row(T, 'insert', ['2', 'pear', 'd2', '7'], '0/1'),
      row(T, 'snapshot', ['3', 'fig', 'd3', '1'], '0/1', null),
      row(T, 'update', ['1', 'apple', 'd1', '6'], '0/2'),
    ]);
    assert.deepEqual(await h.query(select), [
      { id: 1, name: 'apple', doc: 'd1', qty: 6, __deleted: false, __op: 'update', __position: '0/2', ts: '2024-05-01 10:00:00.000001+00' },
      { id: 2, name: 'pear', doc: 'd2', qty: 7, __deleted: false, __op: 'insert', __position: '0/1', ts: '2024-05-01 10:00:00.000001+00' },
      { id: 3, name: 'fig', doc: 'd3', qty: 1, __deleted: false, __op: 'snapshot', __position: '0/1', ts: null },
    ]);
    await h.apply([items, row(T, 'delete', ['2', undefined, undefined, undefined], '0/3')]);
    const [deleted] = await h.query(`${select.replace('ORDER BY id', 'WHERE id = 2')}`);
    assert.deepEqual(deleted, {
      id: 2, name: 'pear', doc: 'd2', qty: 7, __deleted: true, __op: 'delete', __position: '0/3', ts: '2024-05-01 10:00:00.000001+00',
    });
    await h.apply([items, row(T, 'insert', ['2', 'pear2', 'x', '1'], '0/4')]);
    const revived = await h.query('SELECT name, __deleted, __op FROM shop.items WHERE id = 2');
    assert.deepEqual(revived, [{ name: 'pear2', __deleted: false, __op: 'insert' }]);
    assert.deepEqual(await h.query('SELECT count(*)::INT AS n FROM shop.items'), [{ n: 3 }]);
  });

  test('an unsent (TOAST) value keeps the stored one, across batches and within one batch', async () => {
    await h.apply([items, row(T, 'update', ['1', 'apple', undefined, '8'], '0/5')]);
    assert.deepEqual(await h.query('SELECT doc, qty FROM shop.items WHERE id = 1'), [{ doc: 'd1', qty: 8 }]);
    await h.apply([
      items,
      row(T, 'insert', ['10', 'kiwi', 'big toast', '1']),
      row(T, 'update', ['10', 'kiwi', undefined, '2']),
      row(T, 'update', ['10', undefined, undefined, '3']),
    ]);
    assert.deepEqual(await h.query('SELECT name, doc, qty FROM shop.items WHERE id = 10'), [
      { name: 'kiwi', doc: 'big toast', qty: 3 },
    ]);
  });

  test('a NULL that was sent wins over earlier values', async () => {
    await h.apply([
      items,
      row(T, 'update', ['10', 'kiwi', null, '4']),
      row(T, 'update', ['10', 'kiwi', undefined, null]),
    ]);
    assert.deepEqual(await h.query('SELECT doc, qty FROM shop.items WHERE id = 10'), [{ doc: null, qty: null }]);
    await h.apply([items, row(T, 'update', ['1', null, undefined, '9'])]);
    assert.deepEqual(await h.query('SELECT name, doc, qty FROM shop.items WHERE id = 1'), [{ name: null, doc: 'd1', qty: 9 }]);
  });

  test('insert then delete in one batch keeps the inserted values on the deleted row', async () => {
    await h.apply([
      items,
      row(T, 'insert', ['20', 'plum', 'p', '1']),
      row(T, 'delete', ['20', null, null, null]),
    ]);
    assert.deepEqual(await h.query('SELECT name, doc, qty, __deleted, __op FROM shop.items WHERE id = 20'), [
      { name: 'plum', doc: 'p', qty: 1, __deleted: true, __op: 'delete' },
    ]);
  });

  test('deleting a key the table never had leaves a tombstone', async () => {
    await h.apply([items, row(T, 'delete', ['404', undefined, undefined, undefined])]);
    assert.deepEqual(await h.query('SELECT name, doc, qty, __deleted, __op FROM shop.items WHERE id = 404'), [
      { name: null, doc: null, qty: null, __deleted: true, __op: 'delete' },
    ]);
  });

  test('truncate soft-deletes every live row, in order with the rows around it', async () => {
    await h.apply([
      items,
      row(T, 'update', ['3', 'fig', 'd3', '2'], '0/8'),
      truncate(T, '0/9'),
      row(T, 'insert', ['30', 'lime', 'l', '1'], '0/10'),
    ]);
    const rows = await h.query('SELECT id, __deleted, __op, __position FROM shop.items ORDER BY id');
    const byId = new Map(rows.map((r) => [r.id, r]));
    assert.deepEqual(byId.get(3), { id: 3, __deleted: true, __op: 'truncate', __position: '0/9' });
    assert.deepEqual(byId.get(30), { id: 30, __deleted: false, __op: 'insert', __position: '0/10' });
    // Rows deleted before the truncate keep their delete.
    assert.deepEqual(byId.get(404), { id: 404, __deleted: true, __op: 'delete', __position: '0/A' });
    assert.ok(rows.every((r) => r.id === 30 || r.__deleted === true));
  });

  test('a composite key and quoted identifiers (uppercase, spaces, quotes)', async () => {
    const table = 'My Schema.Or"der Lines';
    const lines = schema(table, [column('Order Id', 'BIGINT'), column('line"no', 'INTEGER'), column('Note')], ['Order Id', 'line"no']);
    await h.apply([
      lines,
      row(table, 'insert', ['1', '1', 'a']),
      row(table, 'insert', ['1', '2', 'b']),
      row(table, 'update', ['1', '2', 'B']),
      row(table, 'insert', ['2', '1', 'c']),
    ]);
    await h.apply([lines, row(table, 'delete', ['1', '1', undefined])]);
    const rows = await h.query(
      'SELECT "Order Id" AS o, "line""no" AS l, "Note" AS note, __deleted AS d FROM "My Schema"."Or""der Lines" ORDER BY 1, 2',
    );
    assert.deepEqual(rows, [
      { o: '1', l: 1, note: 'a', d: true },
      { o: '1', l: 2, note: 'B', d: false },
      { o: '2', l: 1, note: 'c', d: false },
    ]);
  });
});

describe('DuckDB destination, file named like a source schema', () => {
  test('shop.duckdb holding shop.items and _ducktail.duckdb: names are never ambiguous', async () => {
    for (const file of ['shop.duckdb', '_ducktail.duckdb']) {
      const h = await Harness.open(file);
      const catalog = file.replace('.duckdb', '');
      try {
        await h.apply([items, row(T, 'insert', ['1', 'a', 'b', '1']), truncate(T), row(T, 'insert', ['2', 'c', 'd', '2'])]);
        await h.apply([items, row(T, 'update', ['2', 'c', undefined, '3']), truncate(T), row(T, 'insert', ['3', 'e', 'f', '4'])]);
        const rows = await h.query(`SELECT id, doc, __op, __deleted FROM "${catalog}".shop.items ORDER BY id`);
        assert.deepEqual(rows, [
          { id: 1, doc: 'b', __op: 'truncate', __deleted: true },
          { id: 2, doc: 'd', __op: 'truncate', __deleted: true },
          { id: 3, doc: 'f', __op: 'insert', __deleted: false },
        ]);
        assert.deepEqual(await h.dest.readCheckpoint('p1'), h.checkpoint);
      } finally {
        await h.close();
      }
    }
  });
});

describe('DuckDB destination, merge mode: a join filter DuckDB cannot push down', () => {
  test('the batch is applied again without join filter pushdown, then the setting is back as it was', async () => {
    const ran: string[] = [];
    // DuckDB 1.5.5 fails a MERGE into lake files written under another key type with this error
    // (found by the differential tester); here it is raised for the first MERGE unless the optimiser is off.
    let failed = 0;
    const h = await Harness.openWrapped((session) => ({
      path: session.path,
      close: () => session.close(),
      exclusive: (work) =>
        session.exclusive((db) =>
          work({
            catalog: db.catalog,
            rows: (sql, params) => db.rows(sql, params),
            run: async (sql, params) => {
              ran.push(sql.split('\n')[0]!.slice(0, 60));
              if (sql.startsWith('MERGE INTO') && failed === 0) {
                const off = await db.rows("SELECT current_setting('disabled_optimizers') AS v");
                if (!JSON.stringify(off[0]?.v ?? '').includes('join_filter_pushdown')) {
                  failed++;
                  throw new Error("Not implemented Error: Can't convert TableFilterType (BLOOM_FILTER) from global to local indexes");
                }
              }
              await db.run(sql, params);
            },
          }),
        ),
    }));
    try {
      await h.apply([items, row(T, 'insert', ['1', 'apple', 'd1', '5'], '0/1'), row(T, 'insert', ['2', 'pear', 'd2', '7'], '0/1')]);
      assert.equal(failed, 1, 'the first MERGE failed');
      assert.deepEqual(await h.query('SELECT id, name, qty FROM shop.items ORDER BY id'), [
        { id: 1, name: 'apple', qty: 5 },
        { id: 2, name: 'pear', qty: 7 },
      ]);
      assert.ok(ran.includes("SET disabled_optimizers = 'join_filter_pushdown'") && ran.includes("SET disabled_optimizers = ''"), ran.join(' | '));
      await h.apply([items, row(T, 'update', ['1', 'apple', 'd1', '6'], '0/2')]);
      assert.equal(ran.filter((s) => s.includes('join_filter_pushdown')).length, 1, 'the next batch runs with the optimiser on');
      assert.deepEqual(await h.query('SELECT qty FROM shop.items WHERE id = 1'), [{ qty: 6 }]);
    } finally {
      await h.close();
    }
  });
});
