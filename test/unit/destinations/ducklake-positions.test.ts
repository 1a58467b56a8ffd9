import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commitPositionInfo, comparePositions, parseUserPosition } from '../../../src/destinations/ducklake/ducklake-positions.js';
import { attachSql } from '../../../src/destinations/ducklake/ducklake-session.js';
import type { Position } from '../../../src/model/position.js';

const pg = (lsn: string, seq?: number): Position => ({ kind: 'pg', lsn, ackLsn: lsn, ...(seq === undefined ? {} : { seq }) });

describe('positions of --as-of-position', () => {
  test('an LSN parses in any spelling PostgreSQL accepts, canonically', () => {
    assert.deepEqual(parseUserPosition(' 0/16b3748 '), pg('0/16B3748'));
    assert.deepEqual(parseUserPosition('00000000/016B3748'), pg('0/16B3748'));
  });

  test('a binlog position parses, with the GTID status prints ignored', () => {
    assert.deepEqual(parseUserPosition('mysql-bin.000003:1234'), { kind: 'mysql', file: 'mysql-bin.000003', pos: 1234 });
    assert.deepEqual(parseUserPosition('mysql-bin.000003:1234#5 (gtid 0-1-7)'), { kind: 'mysql', file: 'mysql-bin.000003', pos: 1234, seq: 5 });
  });

  test('anything else is refused', () => {
    for (const bad of ['', '16B3748', '0/XYZ', 'latest', 'mysql-bin:12', '1/2/3', '0-1-7']) assert.equal(parseUserPosition(bad), null, bad);
  });

  test('LSNs order by value, not as text', () => {
    assert.equal(comparePositions(pg('0/9'), pg('0/10')), -1); // '0/9' > '0/10' as strings
    assert.equal(comparePositions(pg('0/FFFFFFFF'), pg('1/0')), -1);
    assert.equal(comparePositions(pg('0/A'), pg('0/A')), 0);
    // Part of a transaction split across batches is before the whole of it.
    assert.equal(comparePositions(pg('0/A', 3), pg('0/A')), -1);
  });

  test('binlog positions order by file index, then offset, not as text', () => {
    const at = (file: string, pos: number): Position => ({ kind: 'mysql', file, pos });
    assert.equal(comparePositions(at('mysql-bin.000009', 900), at('mysql-bin.000010', 4)), -1);
    assert.equal(comparePositions(at('mysql-bin.000010', 99), at('mysql-bin.000010', 100)), -1);
    assert.equal(comparePositions(at('mysql-bin.000010', 100), at('mysql-bin.000010', 100)), 0);
    assert.throws(() => comparePositions(pg('0/1'), at('mysql-bin.000001', 4)));
  });

  test('a commit records the position as status shows it; none while the initial snapshot runs', () => {
    const position: Position = { kind: 'mysql', file: 'mysql-bin.000003', pos: 1234, gtid: '0-1-7' };
    assert.deepEqual(commitPositionInfo('p', { position, batchId: 'b1' }), { pipeline: 'p', position, text: 'mysql-bin.000003:1234 (gtid 0-1-7)' });
    const running = { position: null, batchId: 'b1', snapshot: { startPosition: pg('0/1'), consistent: true, tables: [{ table: 't', done: false, rows: 3 }] } };
    assert.deepEqual(commitPositionInfo('p', running), { pipeline: 'p', position: null, text: null });
  });

  test('a lake attached as of a snapshot is read-only at that version', () => {
    const destination = { kind: 'ducklake' as const, catalog: 'postgres:dbname=lake', dataPath: '/d' };
    assert.equal(attachSql({ destination, snapshotVersion: 7 }), "ATTACH 'ducklake:postgres:dbname=lake' AS \"lake\" (DATA_PATH '/d', SNAPSHOT_VERSION 7, READ_ONLY)");
  });
});
