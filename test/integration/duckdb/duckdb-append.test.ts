import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { column, Harness, row, schema, truncate } from './duckdb-kit.js';
import type { ChangeEvent } from '../../../src/model/change-event.js';

const T = 'app.events';
const events = schema(T, [column('id', 'INTEGER'), column('body'), column('n', 'INTEGER')]);
const select = 'SELECT id, body, n, __op, __position, __seq FROM app.events ORDER BY rowid';

describe('DuckDB destination, append mode', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.open();
  });
  after(async () => {
    await h.close();
  });

  test('writes one row per event in order, with __op, __position, __seq; a replayed batch adds nothing', async () => {
    const batch: ChangeEvent[] = [
      row(T, 'insert', ['1', 'a', '1'], '0/1'),
      row(T, 'insert', ['2', 'b', '1'], '0/1'),
      row(T, 'update', ['1', 'a2', '2'], '0/2'),
      row(T, 'delete', ['2', undefined, undefined], '0/3'),
    ];
    const { manifest, spoolDir } = await h.stage([events, ...batch]);
    const first = await h.applyStaged(manifest, spoolDir, { mode: 'append' });
    assert.equal(first.skipped, false);
    const expected = [
      { id: 1, body: 'a', n: 1, __op: 'insert', __position: '0/1' },
      { id: 2, body: 'b', n: 1, __op: 'insert', __position: '0/1' },
      { id: 1, body: 'a2', n: 2, __op: 'update', __position: '0/2' },
      // The delete sent only its key: the other values come from the earlier event for key 2.
      { id: 2, body: 'b', n: 1, __op: 'delete', __position: '0/3' },
    ].map((r, i) => ({ ...r, __seq: String(batch[i]?.seq) }));
    assert.deepEqual(await h.query(select), expected);
    const again = await h.applyStaged(manifest, spoolDir, { mode: 'append' });
    assert.equal(again.skipped, true);
    assert.deepEqual(await h.query(select), expected);
  });

  test('unsent values come from the latest earlier event, else the latest stored row, else NULL', async () => {
    await h.apply(
      [
        events,
        row(T, 'update', ['1', undefined, '3']), // from the stored rows: body a2
        row(T, 'update', ['1', null, '4']), // a sent NULL is a value
        row(T, 'update', ['1', undefined, '5']), // ... and is what later events inherit
        row(T, 'update', ['7', undefined, '1']), // never seen: NULL
      ],
      { mode: 'append' },
    );
    const rows = await h.query('SELECT id, body, n FROM app.events WHERE n >= 3 OR id = 7 ORDER BY rowid');
    assert.deepEqual(rows, [
      { id: 1, body: 'a2', n: 3 },
      { id: 1, body: null, n: 4 },
      { id: 1, body: null, n: 5 },
      { id: 7, body: null, n: 1 },
    ]);
  });

  test('unsent values are filled from rows of earlier batches, also after a column was added', async () => {
    const wider = schema(T, [...events.columns, column('extra')]);
    await h.apply([events, row(T, 'insert', ['8', 'first', '1'])], { mode: 'append' });
    await h.apply([wider, row(T, 'update', ['8', undefined, '2', 'x'])], { mode: 'append' });
    assert.deepEqual(await h.query('SELECT body, n, extra FROM app.events WHERE id = 8 ORDER BY rowid'), [
      { body: 'first', n: 1, extra: null },
      { body: 'first', n: 2, extra: 'x' },
    ]);
  });

  test('truncate adds one row with __op truncate and NULL columns', async () => {
    await h.apply([events, truncate(T, '0/T1'), row(T, 'insert', ['9', 'z', '1'], '0/T2')], { mode: 'append' });
    const rows = await h.query('SELECT id, body, n, __op, __position FROM app.events ORDER BY rowid DESC LIMIT 2');
    assert.deepEqual(rows, [
      { id: 9, body: 'z', n: 1, __op: 'insert', __position: '0/T2' },
      { id: null, body: null, n: null, __op: 'truncate', __position: '0/T1' },
    ]);
  });

  test('a keyless table is appended even in merge mode', async () => {
    const logT = 'app.log';
    const keyless = schema(logT, [column('msg'), column('lvl', 'SMALLINT')], []);
    await h.apply([keyless, row(logT, 'insert', ['hello', '1']), row(logT, 'insert', ['hello', '1'])], { mode: 'merge' });
    assert.deepEqual(await h.query('SELECT msg, lvl, __op FROM app.log ORDER BY rowid'), [
      { msg: 'hello', lvl: 1, __op: 'insert' },
      { msg: 'hello', lvl: 1, __op: 'insert' },
    ]);
    const cols = await h.query(
      "SELECT list(column_name ORDER BY column_index) AS c FROM duckdb_columns() WHERE table_name = 'log'",
    );
    assert.deepEqual(cols, [{ c: ['msg', 'lvl', '__op', '__position', '__commit_ts', '__seq'] }]);
  });
});
