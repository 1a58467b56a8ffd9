import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  binlogBytesBetween,
  compareMysqlPositions,
  formatMysqlPosition,
  parseMysqlPosition,
  samePosition,
} from '../../../../src/sources/mysql/mysql-position.js';
import type { MysqlPosition } from '../../../../src/model/position.js';

const p = (file: string, pos: number, seq?: number): MysqlPosition =>
  seq === undefined ? { kind: 'mysql', file, pos } : { kind: 'mysql', file, pos, seq };

describe('mysql positions', () => {
  test('orders by file index numerically, not as text', () => {
    assert.equal(compareMysqlPositions(p('mysql-bin.000009', 900), p('mysql-bin.000010', 4)), -1);
    assert.equal(compareMysqlPositions(p('mysql-bin.999999', 4), p('mysql-bin.1000000', 4)), -1);
    assert.equal(compareMysqlPositions(p('mysql-bin.000010', 4), p('mysql-bin.000009', 900)), 1);
  });

  test('orders by offset, then seq (absent = 0)', () => {
    assert.equal(compareMysqlPositions(p('b.000001', 99), p('b.000001', 100)), -1);
    assert.equal(compareMysqlPositions(p('b.000001', 100), p('b.000001', 100, 3)), -1);
    assert.equal(compareMysqlPositions(p('b.000001', 100, 3), p('b.000001', 100, 2)), 1);
    assert.equal(compareMysqlPositions(p('b.000001', 100, 0), p('b.000001', 100)), 0);
    assert.equal(compareMysqlPositions({ ...p('b.000001', 100), gtid: '0-1-5' }, { ...p('b.000001', 100), gtid: '0-1-9' }), 0);
  });

  test('refuses to order positions of different binlog base names', () => {
    assert.throws(() => compareMysqlPositions(p('a-bin.000001', 4), p('b-bin.000001', 4)), /cannot be ordered/);
  });

  test('formats and parses', () => {
    assert.equal(formatMysqlPosition(p('mysql-bin.000003', 1234)), 'mysql-bin.000003:1234');
    assert.equal(formatMysqlPosition({ ...p('mysql-bin.000003', 1234, 5), gtid: '0-1-7' }), 'mysql-bin.000003:1234#5 (gtid 0-1-7)');
    assert.deepEqual(parseMysqlPosition('mysql-bin.000003:1234#5'), p('mysql-bin.000003', 1234, 5));
    assert.deepEqual(parseMysqlPosition('mysql-bin.000003:1234'), p('mysql-bin.000003', 1234));
    assert.throws(() => parseMysqlPosition('nonsense'));
  });

  test('samePosition ignores the gtid and treats seq 0 as absent', () => {
    assert.ok(samePosition(p('b.000001', 7, 0), { ...p('b.000001', 7), gtid: 'x' }));
    assert.ok(!samePosition(p('b.000001', 7, 1), p('b.000001', 7)));
  });

  test('lag in bytes only within one file', () => {
    assert.equal(binlogBytesBetween(p('b.000001', 100), p('b.000001', 350)), 250);
    assert.equal(binlogBytesBetween(p('b.000001', 100), p('b.000002', 350)), null);
  });
});
