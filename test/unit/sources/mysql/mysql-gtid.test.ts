import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addMariadbGtid,
  addMysqlGtid,
  compareGtid,
  formatMariadbGtidPos,
  formatMysqlGtidSet,
  parseMariadbGtidPos,
  parseMysqlGtidSet,
} from '../../../../src/sources/mysql/mysql-gtid.js';
import { GtidTracker } from '../../../../src/sources/mysql/mysql-gtid-tracker.js';

const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const U2 = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';

describe('MariaDB GTID positions', () => {
  test('compare sequence numbers as numbers, not strings', () => {
    assert.equal(compareGtid('0-1-9', '0-1-10'), -1);
    assert.equal(compareGtid('0-1-10', '0-1-9'), 1);
    assert.equal(compareGtid('0-1-10', '0-1-10'), 0);
  });

  test('exact beyond 2^53', () => {
    assert.equal(compareGtid('0-1-18446744073709551614', '0-1-18446744073709551615'), -1);
    assert.equal(formatMariadbGtidPos(parseMariadbGtidPos('0-1-18446744073709551615')), '0-1-18446744073709551615');
  });

  test('multi-domain: ordered only when every domain agrees', () => {
    assert.equal(compareGtid('0-1-5,1-2-7', '0-1-6,1-2-7'), -1);
    assert.equal(compareGtid('0-1-5,1-2-8', '0-1-6,1-2-7'), null);
    assert.equal(compareGtid('0-1-5', '0-1-5,1-2-1'), -1);
    assert.equal(compareGtid('1-2-7,0-1-5', '0-1-5,1-2-7'), 0);
  });

  test('add keeps the last GTID per domain', () => {
    const pos = parseMariadbGtidPos('0-1-5');
    addMariadbGtid(pos, '0-1-6');
    addMariadbGtid(pos, '2-3-1');
    assert.equal(formatMariadbGtidPos(pos), '0-1-6,2-3-1');
  });
});

describe('MySQL GTID sets', () => {
  test('compare by inclusion', () => {
    assert.equal(compareGtid(`${U1}:1-5`, `${U1}:1-10`), -1);
    assert.equal(compareGtid(`${U1}:1-10`, `${U1}:1-5`), 1);
    assert.equal(compareGtid(`${U1}:1-5:7`, `${U1}:1-7`), -1);
    assert.equal(compareGtid(`${U1}:1-5`, `${U2}:1-5`), null);
    assert.equal(compareGtid(`${U1}:1-5,${U2}:1-2`, `${U2}:1-2,${U1}:1-5`), 0);
    // "1-9" > "1-10" as strings; structurally the opposite
    assert.equal(compareGtid(`${U1}:1-9`, `${U1}:1-10`), -1);
  });

  test('add merges adjacent intervals', () => {
    const set = parseMysqlGtidSet(`${U1}:1-5:7-9`);
    addMysqlGtid(set, `${U1}:6`);
    assert.equal(formatMysqlGtidSet(set), `${U1}:1-9`);
    addMysqlGtid(set, `${U1}:12`);
    assert.equal(formatMysqlGtidSet(set), `${U1}:1-9:12`);
  });

  test('tagged GTIDs are kept apart', () => {
    const set = parseMysqlGtidSet(`${U1}:1-3:tag_a:1-2`);
    assert.equal(formatMysqlGtidSet(set), `${U1}:1-3,${U1}:tag_a:1-2`);
  });

  test('mixing flavours is an error', () => {
    assert.throws(() => compareGtid('0-1-5', `${U1}:1-5`));
  });
});

describe('GtidTracker', () => {
  test('MariaDB: starts unknown, tracks domains seen', () => {
    const t = new GtidTracker();
    assert.equal(t.current(), undefined);
    t.add('0-1-8');
    assert.equal(t.current(), '0-1-8');
  });

  test('MySQL: without a known start the set stays unknown', () => {
    const t = new GtidTracker();
    t.add(`${U1}:8`);
    assert.equal(t.current(), undefined);
    const k = new GtidTracker(`${U1}:1-7`);
    k.add(`${U1}:8`);
    assert.equal(k.current(), `${U1}:1-8`);
  });
});
