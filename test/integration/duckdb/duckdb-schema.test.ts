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

  test('adds a column: rows loaded before read NULL, or the value the source gives them', async () => {
    const v1 = schema('evo.a', [column('id', 'INTEGER'), column('v', 'INTEGER')]);
    await h.apply([v1, row('evo.a', 'insert', ['2', '20'])]);
    const v2 = schema('evo.a', [...v1.columns, column('note'), { ...column('flag', 'INTEGER'), backfill: '7' }]);
    await h.apply([v2, row('evo.a', 'insert', ['3', '30', 'hi', '1']), row('evo.a', 'update', ['2', '21', 'yo', undefined])]);
    assert.equal((await columnTypes(h, 'a')).note, 'VARCHAR');
    assert.deepEqual(await h.query('SELECT id, v, note, flag FROM evo.a ORDER BY id'), [
      { id: 1, v: 10, note: null, flag: 7 },
      { id: 2, v: 21, note: 'yo', flag: 7 },
      { id: 3, v: 30, note: 'hi', flag: 1 },
    ]);
    // The default served only the rows that existed: later inserts without the column stay NULL.
    assert.deepEqual(await h.query("SELECT count(*)::INT AS n FROM duckdb_columns() WHERE table_name = 'a' AND column_default IS NOT NULL"), [{ n: 0 }]);
  });

  test('a batch that changes a table after writing rows of it is refused before anything is written', async () => {
    const v1 = schema('evo.r', [column('id', 'INTEGER'), column('v', 'INTEGER')]);
    await h.apply([v1, row('evo.r', 'insert', ['1', '1'])]);
    const before = h.checkpoint;
    await assert.rejects(
      h.apply([v1, row('evo.r', 'update', ['1', '2']), schema('evo.r', [...v1.columns, column('x')]), row('evo.r', 'update', ['1', '3', 'x'])]),
      /changes the schema of evo\.r after writing rows of it in the same batch/,
    );
    h.checkpoint = before;
    assert.deepEqual(await h.query('SELECT id, v FROM evo.r'), [{ id: 1, v: 1 }]);
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

  test('a column dropped and added again starts over: every row reads what the source gives', async () => {
    const t = 'evo.again';
    const full = schema(t, [column('id', 'INTEGER'), column('x', 'INTEGER')]);
    await h.apply([full, row(t, 'insert', ['1', '10']), row(t, 'insert', ['2', '20'])]);
    await h.apply([schema(t, [column('id', 'INTEGER')]), row(t, 'update', ['2'])]);
    await h.apply([schema(t, [column('id', 'INTEGER'), { ...column('x', 'VARCHAR'), backfill: 'b' }]), row(t, 'insert', ['3', 'c'])]);
    assert.deepEqual(await h.query('SELECT id, x FROM evo.again ORDER BY id'), [
      { id: 1, x: 'b' },
      { id: 2, x: 'b' },
      { id: 3, x: 'c' },
    ]);
  });

  test('a TRUNCATE whose shape is only a guess truncates the table as it is (no column dropped, no values lost)', async () => {
    const t = 'evo.trunc';
    const full = schema(t, [column('id', 'INTEGER'), column('x', 'INTEGER')]);
    await h.apply([full, row(t, 'insert', ['1', '10'])]);
    // A MySQL TRUNCATE replayed after a restart: the shape known is the catalog's, where x is gone.
    const guess = { table: t, op: 'truncate' as const, position: '0/T', commitTs: null, seq: 0, shapeOnlyIfNew: true };
    await h.apply([schema(t, [column('id', 'INTEGER')]), guess]);
    await h.apply([full, row(t, 'insert', ['2', '20'])]);
    assert.deepEqual(await h.query('SELECT id, x, __op FROM evo.trunc ORDER BY id'), [
      { id: 1, x: 10, __op: 'truncate' },
      { id: 2, x: 20, __op: 'insert' },
    ]);
    const cols = await h.query(`SELECT CAST(columns AS VARCHAR) AS c FROM _ducktail.tables WHERE source_table = '${t}'`);
    assert.ok((JSON.parse(cols[0]?.c as string) as { source: string; live: boolean }[]).every((c) => c.live), 'x was never marked dropped');
    // A table the destination does not have yet is created from the guess.
    await h.apply([schema('evo.fresh', [column('id', 'INTEGER')]), { ...guess, table: 'evo.fresh' }]);
    assert.deepEqual(await h.query('SELECT count(*)::INT AS n FROM evo.fresh'), [{ n: 0 }]);
  });

  test('a column renamed at the source (same id, or a reported rename) keeps its values', async () => {
    const t = 'evo.ren';
    const id = { ...column('id', 'INTEGER'), id: 1 };
    await h.apply([schema(t, [id, { ...column('a'), id: 2 }, column('b')]), row(t, 'insert', ['1', 'x', 'y'])]);
    await h.apply([schema(t, [id, { ...column('a2'), id: 2 }, column('b')]), row(t, 'insert', ['2', 'p', 'q'])]);
    await h.apply([{ table: t, renames: [{ from: 'b', to: 'b2' }] }]);
    await h.apply([schema(t, [id, { ...column('a2'), id: 2 }, column('b2')]), row(t, 'insert', ['3', 'r', 's'])]);
    assert.deepEqual(await h.query('SELECT id, a2, b2 FROM evo.ren ORDER BY id'), [
      { id: 1, a2: 'x', b2: 'y' },
      { id: 2, a2: 'p', b2: 'q' },
      { id: 3, a2: 'r', b2: 's' },
    ]);
    assert.deepEqual(Object.keys(await columnTypes(h, 'ren')).slice(0, 3), ['id', 'a2', 'b2']);
  });

  test('a shape declared without rows creates or evolves the table', async () => {
    const t = 'evo.quiet';
    await h.apply([{ declare: schema(t, [column('id', 'INTEGER')]) }]);
    assert.deepEqual(await h.query('SELECT count(*)::INT AS n FROM evo.quiet'), [{ n: 0 }]);
    await h.apply([schema(t, [column('id', 'INTEGER')]), row(t, 'insert', ['1'])]);
    await h.apply([{ declare: schema(t, [column('id', 'INTEGER'), { ...column('c', 'INTEGER'), backfill: '5' }]) }]);
    assert.deepEqual(await h.query('SELECT id, c FROM evo.quiet'), [{ id: 1, c: 5 }]);
  });

  test('an interrupted snapshot\'s rows are discarded, nothing else', async () => {
    const t = 'evo.snap';
    const s = schema(t, [column('id', 'INTEGER'), column('v')]);
    await h.apply([s, row(t, 'snapshot', ['1', 'old'], 'S0'), row(t, 'insert', ['2', 'kept'], '0/1')]);
    await h.apply([s, row(t, 'snapshot', ['1', 'new'], 'S1'), row(t, 'snapshot', ['3', 'new'], 'S1')]);
    await h.apply([{ discard: t, position: 'S1' }]);
    assert.deepEqual(await h.query('SELECT id, v, __position FROM evo.snap ORDER BY id'), [{ id: 2, v: 'kept', __position: '0/1' }]);
  });

  test('a column added with a value the source cannot tell marks the table for re-sync', async () => {
    const t = 'evo.vol';
    await h.apply([schema(t, [column('id', 'INTEGER')]), row(t, 'insert', ['1'])]);
    const result = await h.apply([schema(t, [column('id', 'INTEGER'), { ...column('r', 'DOUBLE'), backfillUnknown: true }]), row(t, 'insert', ['2', '0.5'])]);
    assert.equal(result.resync.length, 1);
    assert.match(result.resync[0] ?? '', /^evo\.vol: column\(s\) r of evo\.vol were added at the source with values Ducktail cannot read/);
  });
});
