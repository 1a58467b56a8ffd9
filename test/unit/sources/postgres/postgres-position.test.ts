import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PgPosition } from '../../../../src/model/position.js';
import {
  boundaryPosition,
  comparePgPositions,
  describePgPosition,
  formatLsn,
  normalizeLsn,
  parseLsn,
  pgLagBytes,
  pgReached,
  wholeTxnPosition,
} from '../../../../src/sources/postgres/postgres-position.js';

const pos = (lsn: string, seq?: number, ackLsn = lsn): PgPosition => ({ kind: 'pg', lsn, ackLsn, ...(seq === undefined ? {} : { seq }) });

describe('LSN parse/format', () => {
  test('round-trips and uses both halves as one 64-bit number', () => {
    assert.equal(parseLsn('0/16B3748'), 0x16b3748n);
    assert.equal(parseLsn('1/0'), 1n << 32n);
    assert.equal(parseLsn('FFFFFFFF/FFFFFFFF'), (1n << 64n) - 1n);
    assert.equal(formatLsn(0x1_0000_00abn), '1/AB');
    assert.equal(normalizeLsn('00000000/016B3748'), '0/16B3748');
    assert.equal(normalizeLsn('0/16b3748'), '0/16B3748');
  });
  test('rejects malformed text', () => {
    for (const bad of ['', '0', '0/', '/1', 'x/1', '0/123456789', '0/1/2']) assert.throws(() => parseLsn(bad), /not a PostgreSQL LSN/);
    assert.throws(() => formatLsn(-1n));
  });
});

describe('comparePgPositions', () => {
  test('compares LSNs numerically, not as strings', () => {
    assert.equal(comparePgPositions(pos('0/9'), pos('0/10')), -1);
    assert.equal(comparePgPositions(pos('F/0'), pos('10/0')), -1);
    assert.equal(comparePgPositions(pos('0/FFFFFFFF'), pos('1/0')), -1);
    assert.equal(comparePgPositions(pos('0/A'), pos('00000000/0000000A')), 0);
  });
  test('at one commit LSN: boundary < split(1) < split(2) < whole', () => {
    const order = [pos('0/100', 0), pos('0/100', 1), pos('0/100', 2), pos('0/100')];
    for (let i = 0; i < order.length; i++) {
      for (let j = 0; j < order.length; j++) {
        assert.equal(comparePgPositions(order[i]!, order[j]!), Math.sign(i - j), `${i} vs ${j}`);
      }
    }
  });
  test('ackLsn does not take part in the order', () => {
    assert.equal(comparePgPositions(pos('0/100', undefined, '0/180'), pos('0/100', undefined, '0/90')), 0);
  });
  test('a transaction committing exactly at the previous one\'s end LSN sorts after it', () => {
    const first = wholeTxnPosition('0/100', '0/130');
    const next = pos('0/130', 1, '0/130');
    assert.equal(comparePgPositions(first, next), -1);
    // ...and after the boundary at that LSN, so it is never skipped as "already loaded".
    assert.equal(comparePgPositions(boundaryPosition('0/130'), next), -1);
  });
  test('a split position sorts before the whole transaction but after every earlier one', () => {
    assert.equal(comparePgPositions(pos('0/200', 5, '0/130'), wholeTxnPosition('0/200', '0/230')), -1);
    assert.equal(comparePgPositions(pos('0/200', 5, '0/130'), wholeTxnPosition('0/100', '0/130')), 1);
  });
});

describe('lag, reached, describe', () => {
  const target = boundaryPosition('0/1000');
  test('a whole transaction covers up to its end LSN', () => {
    assert.equal(pgReached({ position: wholeTxnPosition('0/F00', '0/1000'), batchId: 'b' }, target), true);
    assert.equal(pgReached({ position: wholeTxnPosition('0/F00', '0/FFF'), batchId: 'b' }, target), false);
    assert.equal(pgLagBytes({ position: wholeTxnPosition('0/F00', '0/F80'), batchId: 'b' }, target), 0x80);
  });
  test('a split position covers only what committed before it', () => {
    assert.equal(pgReached({ position: pos('0/F00', 3, '0/E00'), batchId: 'b' }, target), false);
    assert.equal(pgLagBytes({ position: pos('0/F00', 3, '0/E00'), batchId: 'b' }, target), 0x100);
  });
  test('an unfinished snapshot has not reached anything; lag is counted from its start', () => {
    const snap = { position: null, batchId: '', snapshot: { startPosition: boundaryPosition('0/1000'), tables: [{ table: 'a.b', done: false, rows: 0 }], consistent: true } };
    assert.equal(pgReached(snap, target), false);
    assert.equal(pgLagBytes(snap, boundaryPosition('0/1010')), 0x10);
    assert.equal(pgLagBytes({ position: null, batchId: '' }, target), null);
  });
  test('describe', () => {
    assert.equal(describePgPosition(wholeTxnPosition('0/F00', '0/F80')), '0/F00');
    assert.equal(describePgPosition(pos('0/F00', 7)), '0/F00#7');
    assert.equal(describePgPosition(boundaryPosition('0/F00')), '0/F00');
    assert.throws(() => describePgPosition({ kind: 'mysql', file: 'x', pos: 1 }), /PostgreSQL position/);
  });
});
