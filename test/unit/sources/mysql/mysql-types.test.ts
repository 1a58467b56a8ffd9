import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mapColumn, parseColumnType, refineColumn } from '../../../../src/sources/mysql/mysql-types.js';

/** DuckDB type and encoding for an information_schema COLUMN_TYPE. */
function duck(columnType: string, jsonCheck = false): string {
  const { column } = mapColumn(parseColumnType('c', columnType, undefined, jsonCheck));
  return column.encoding === 'text' ? column.duckType : `${column.duckType}/${column.encoding}`;
}

describe('mysql type mapping', () => {
  test('integers, signed and unsigned', () => {
    assert.equal(duck('tinyint(4)'), 'SMALLINT');
    assert.equal(duck('tinyint(1)'), 'SMALLINT');
    assert.equal(duck('smallint(6)'), 'SMALLINT');
    assert.equal(duck('mediumint(9)'), 'INTEGER');
    assert.equal(duck('int(11)'), 'INTEGER');
    assert.equal(duck('bigint(20)'), 'BIGINT');
    assert.equal(duck('tinyint(3) unsigned'), 'USMALLINT');
    assert.equal(duck('smallint(5) unsigned'), 'USMALLINT');
    assert.equal(duck('mediumint(8) unsigned zerofill'), 'UINTEGER');
    assert.equal(duck('int(10) unsigned'), 'UINTEGER');
    assert.equal(duck('bigint(20) unsigned'), 'UBIGINT');
  });

  test('binlog signedness overrides the type text', () => {
    assert.equal(mapColumn(parseColumnType('c', 'bigint', true)).column.duckType, 'UBIGINT');
    assert.equal(mapColumn(parseColumnType('c', 'int', false)).column.duckType, 'INTEGER');
  });

  test('decimals, floats', () => {
    assert.equal(duck('decimal(38,10)'), 'DECIMAL(38,10)');
    assert.equal(duck('decimal(10,0) unsigned'), 'DECIMAL(10,0)');
    assert.equal(duck('decimal(65,30)'), 'VARCHAR');
    assert.equal(duck('float'), 'REAL');
    assert.equal(duck('float(10,2)'), 'REAL');
    assert.equal(duck('double'), 'DOUBLE');
  });

  test('text, binary, json', () => {
    for (const t of ['char(3)', 'varchar(255)', 'tinytext', 'text', 'mediumtext', 'longtext']) assert.equal(duck(t), 'VARCHAR');
    for (const t of ['binary(4)', 'varbinary(16)', 'tinyblob', 'blob', 'mediumblob', 'longblob']) assert.equal(duck(t), 'BLOB/hex');
    assert.equal(duck('json'), 'JSON');
    assert.equal(duck('longtext', true), 'JSON');
  });

  test('temporal', () => {
    assert.equal(duck('date'), 'DATE');
    assert.equal(duck('datetime(6)'), 'TIMESTAMP');
    assert.equal(duck('timestamp(3)'), 'TIMESTAMPTZ');
    assert.equal(duck('time(3)'), 'INTERVAL');
    assert.equal(duck('year(4)'), 'SMALLINT');
  });

  test('enum, set, bit, MariaDB types, geometry, unknown', () => {
    assert.equal(duck("enum('x','y')"), 'VARCHAR');
    assert.equal(duck("set('a','b,c')"), 'VARCHAR[]/json');
    assert.equal(duck('bit(10)'), 'UBIGINT');
    assert.equal(duck('uuid'), 'UUID');
    assert.equal(duck('inet4'), 'VARCHAR');
    assert.equal(duck('inet6'), 'VARCHAR');
    assert.equal(duck('point'), 'VARCHAR');
    assert.equal(duck('geometry'), 'VARCHAR');
    assert.equal(duck('vector(3)'), 'BLOB/hex');
    assert.equal(duck('something_new'), 'VARCHAR');
  });

  test('information_schema and binlog spellings normalise to one source type', () => {
    const pairs: [string, string][] = [
      ['int(11)', 'int'],
      ['bigint(20) unsigned', 'bigint unsigned'],
      ['year(4)', 'year'],
      ['tinyint(1)', 'tinyint'],
      ['timestamp(6)', 'timestamp(6)'],
      ['varchar(20)', 'varchar(20)'],
      ['varchar(20) /*M!100301 COMPRESSED*/', 'varchar(20)'],
    ];
    for (const [is, binlog] of pairs) {
      assert.equal(parseColumnType('c', is).type, parseColumnType('c', binlog).type, is);
    }
  });

  test('refinement uses the current definition only when the binlog type matches it', () => {
    const uuidNow = parseColumnType('u', 'uuid');
    const jsonNow = parseColumnType('j', 'longtext', undefined, true);
    assert.equal(refineColumn(parseColumnType('u', 'binary(16)'), uuidNow).type, 'uuid');
    assert.equal(refineColumn(parseColumnType('j', 'longtext'), jsonNow).type, 'json');
    // the event was written before the column became a UUID: keep what the binlog says
    assert.equal(refineColumn(parseColumnType('u', 'varchar(36)'), uuidNow).type, 'varchar(36)');
    assert.equal(refineColumn(parseColumnType('u', 'binary(16)'), undefined).type, 'binary(16)');
  });
});
