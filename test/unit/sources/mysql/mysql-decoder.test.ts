import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyBinlogEvent, TableMapEntry } from '@vlasky/zongji';
import { BinlogDecoder, type Cursor, type StreamItem } from '../../../../src/sources/mysql/mysql-decoder.js';

const entry: TableMapEntry = {
  parentSchema: 'db',
  tableName: 't',
  columnSchemas: [
    { COLUMN_NAME: 'id', COLUMN_TYPE: 'int', CHARACTER_SET_NAME: null, COLLATION_NAME: null, COLUMN_COMMENT: '' },
    { COLUMN_NAME: 'v', COLUMN_TYPE: 'int', CHARACTER_SET_NAME: null, COLLATION_NAME: null, COLUMN_COMMENT: '' },
  ],
};
const tableMap = { 7: entry };

/** A minimal stand-in for a zongji event. */
function ev(name: string, nextPosition: number, extra: Record<string, unknown> = {}): AnyBinlogEvent {
  return { getEventName: () => name, getTypeName: () => name, timestamp: 1_700_000_000_000, nextPosition, ...extra } as unknown as AnyBinlogEvent;
}

const gtid = (n: number, standalone = false): AnyBinlogEvent => ev('mariadbgtid', 0, { standalone, gtid: `0-1-${n}` });
const tablemap = (): AnyBinlogEvent => ev('tablemap', 0, { tableId: 7, tableMap, primaryKey: [0] });
const write = (...ids: number[]): AnyBinlogEvent => ev('writerows', 0, { tableId: 7, tableMap, rows: ids.map((id) => ({ id, v: id })) });
const xid = (pos: number, n: number): AnyBinlogEvent => ev('xid', pos, { gtid: `0-1-${n}` });

function decode(start: Cursor, events: AnyBinlogEvent[]): StreamItem[] {
  const items: StreamItem[] = [];
  const d = new BinlogDecoder(start, (db, t) => db === 'db' && t === 't', (i) => items.push(i));
  for (const e of events) d.handle(e);
  return items;
}

const summary = (items: StreamItem[]): string[] =>
  items.map((i) => {
    const at = `${i.after.file}:${i.after.pos}#${i.after.seq}`;
    return i.kind === 'row' ? `${i.op} ${String(i.row.id)} seq${i.seq} @${i.txnPos} → ${at}` : `${i.kind} → ${at}`;
  });

describe('binlog decoder', () => {
  const start: Cursor = { file: 'mysql-bin.000001', pos: 100, seq: 0 };

  test('a transaction: events at its start position, the cursor moves to its commit', () => {
    const items = decode(start, [ev('rotate', 0, { binlogName: 'mysql-bin.000001', position: 100 }), gtid(5), tablemap(), write(1, 2), xid(400, 5)]);
    assert.deepEqual(summary(items), [
      'insert 1 seq0 @100 → mysql-bin.000001:100#1',
      'insert 2 seq1 @100 → mysql-bin.000001:100#2',
      'commit → mysql-bin.000001:400#0',
    ]);
    assert.equal(items[2]!.after.gtid, '0-1-5');
  });

  test('resuming inside a transaction skips the events already delivered', () => {
    const items = decode({ ...start, seq: 2 }, [gtid(5), tablemap(), write(1, 2), write(3), xid(400, 5), gtid(6), tablemap(), write(9), xid(500, 6)]);
    assert.deepEqual(summary(items), [
      'insert 3 seq2 @100 → mysql-bin.000001:100#3',
      'commit → mysql-bin.000001:400#0',
      'insert 9 seq0 @400 → mysql-bin.000001:400#1',
      'commit → mysql-bin.000001:500#0',
    ]);
  });

  test('non-transactional BEGIN … COMMIT query events; rotate moves to the next file', () => {
    const items = decode(start, [
      ev('query', 150, { query: 'BEGIN', schema: 'db' }), tablemap(), write(1), ev('query', 300, { query: 'COMMIT', schema: 'db' }),
      ev('rotate', 0, { binlogName: 'mysql-bin.000002', position: 4 }),
    ]);
    assert.deepEqual(summary(items), ['insert 1 seq0 @100 → mysql-bin.000001:100#1', 'commit → mysql-bin.000001:300#0', 'commit → mysql-bin.000002:4#0']);
  });

  test('TRUNCATE and ALTER of selected tables; DDL elsewhere only moves the position', () => {
    const items = decode(start, [
      gtid(5, true), ev('query', 200, { query: 'TRUNCATE TABLE t', schema: 'db' }),
      gtid(6, true), ev('query', 300, { query: 'ALTER TABLE db.t ADD COLUMN x INT', schema: '' }),
      gtid(7, true), ev('query', 400, { query: 'CREATE TABLE other.x (id INT)', schema: 'other' }),
    ]);
    assert.deepEqual(summary(items), [
      'truncate → mysql-bin.000001:100#1',
      'commit → mysql-bin.000001:200#0',
      'ddl → mysql-bin.000001:300#0',
      'commit → mysql-bin.000001:400#0',
    ]);
  });

  test('an update that changes the key is one update carrying the row before', () => {
    const update = ev('updaterows', 0, { tableId: 7, tableMap, rows: [{ before: { id: 1, v: 1 }, after: { id: 2, v: 1 } }, { before: { id: 3, v: 1 }, after: { id: 3, v: 2 } }] });
    const items = decode(start, [gtid(5), tablemap(), update, xid(400, 5)]);
    assert.deepEqual(items.filter((i) => i.kind === 'row').map((i) => (i.kind === 'row' ? `${i.op}:${String(i.before?.id)}>${String(i.row.id)}:${i.seq}` : '')), [
      'update:1>2:0', 'update:undefined>3:1',
    ]);
  });
});
