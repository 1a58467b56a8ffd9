import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addMariadbGtid,
  addMysqlGtid,
  formatMariadbGtidPos,
  formatMysqlGtidSet,
  parseMariadbGtidPos,
  parseMysqlGtidSet,
} from '../../../../src/sources/mysql/mysql-gtid.js';
import { GtidTracker } from '../../../../src/sources/mysql/mysql-gtid-tracker.js';

const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

describe('MariaDB GTID positions', () => {
  test('exact beyond 2^53', () => {
    assert.equal(formatMariadbGtidPos(parseMariadbGtidPos('0-1-18446744073709551615')), '0-1-18446744073709551615');
  });

  test('add keeps the last GTID per domain', () => {
    const pos = parseMariadbGtidPos('0-1-5');
    addMariadbGtid(pos, '0-1-6');
    addMariadbGtid(pos, '2-3-1');
    assert.equal(formatMariadbGtidPos(pos), '0-1-6,2-3-1');
  });
});

describe('MySQL GTID sets', () => {
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
