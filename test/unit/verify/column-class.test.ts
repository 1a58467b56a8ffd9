import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { duckMismatch, isKeyClass, type ColumnClass } from '../../../src/verify/column-class.js';
import { classifyMysqlColumn } from '../../../src/verify/mysql-columns.js';
import { classifyPgColumn } from '../../../src/verify/postgres-columns.js';
import { parseColumnType } from '../../../src/sources/mysql/mysql-types.js';
import type { PgTypeInfo } from '../../../src/sources/postgres/postgres-types.js';

const pgType = (name: string, extra: Partial<PgTypeInfo> = {}): PgTypeInfo => ({
  oid: 1, name, typtype: 'b', category: 'N', elem: null, base: null, baseTypmod: -1, ...extra,
});
const kindOf = (c: { cls: ColumnClass | null }): string => (c.cls === null ? 'not compared' : c.cls.kind === 'decimal' ? `decimal(${c.cls.scale})` : c.cls.kind);
/** numeric(p,s) typmod as PostgreSQL stores it. */
const numeric = (p: number, s: number): number => ((p << 16) | s) + 4;

describe('comparison classes of source columns', () => {
  test('PostgreSQL types', () => {
    const cases: [PgTypeInfo, number, string][] = [
      [pgType('int4'), -1, 'int'],
      [pgType('int8'), -1, 'int'],
      [pgType('numeric'), numeric(12, 2), 'decimal(2)'],
      [pgType('numeric'), -1, 'text'], // unconstrained: staged as PostgreSQL's text
      [pgType('numeric'), numeric(60, 2), 'text'],
      [pgType('float4'), -1, 'float'],
      [pgType('bool'), -1, 'bool'],
      [pgType('varchar'), 24, 'text'],
      [pgType('bpchar'), 10, 'char'],
      [pgType('date'), -1, 'date'],
      [pgType('timestamp'), -1, 'timestamp'],
      [pgType('timestamptz'), -1, 'timestamptz'],
      [pgType('time'), -1, 'time'],
      [pgType('uuid'), -1, 'uuid'],
      [pgType('jsonb'), -1, 'json'],
      [pgType('bytea'), -1, 'bytes'],
      [pgType('mood', { typtype: 'e' }), -1, 'text'],
      [pgType('inet'), -1, 'text'],
      [pgType('money'), -1, 'text'],
      [pgType('interval'), -1, 'not compared'],
      [pgType('timetz'), -1, 'not compared'],
      [pgType('_int4', { category: 'A', elem: pgType('int4') }), -1, 'not compared'],
      [pgType('price', { typtype: 'd', base: pgType('numeric'), baseTypmod: numeric(10, 3) }), -1, 'decimal(3)'],
    ];
    for (const [type, typmod, want] of cases) assert.equal(kindOf(classifyPgColumn(type, typmod)), want, type.name);
  });

  test('MySQL/MariaDB types', () => {
    const cases: [string, string][] = [
      ['int(11)', 'int'],
      ['bigint(20) unsigned', 'int'],
      ['tinyint(1)', 'int'],
      ['bit(10)', 'int'],
      ['year(4)', 'int'],
      ['decimal(38,10)', 'decimal(10)'],
      ['decimal(65,2)', 'text'],
      ['float', 'float'],
      ['double', 'float'],
      ['varchar(20)', 'text'],
      ['char(5)', 'char'],
      ['longblob', 'bytes'],
      ['date', 'date'],
      ['datetime(6)', 'timestamp'],
      ['timestamp(6)', 'timestamptz'],
      ['time(6)', 'time'],
      ["enum('a','b')", 'text'],
      ["set('a','b')", 'set'],
      ['uuid', 'uuid'],
      ['inet6', 'text'],
      ['point', 'not compared'],
    ];
    for (const [type, want] of cases) assert.equal(kindOf(classifyMysqlColumn(parseColumnType('c', type))), want, type);
    assert.equal(kindOf(classifyMysqlColumn(parseColumnType('c', 'longtext', undefined, true))), 'json');
  });

  test('the DuckDB column must still hold values of the class (widenings are fine)', () => {
    assert.equal(duckMismatch({ kind: 'int' }, 'BIGINT'), null);
    assert.equal(duckMismatch({ kind: 'int' }, 'DECIMAL(20,0)'), null);
    assert.equal(duckMismatch({ kind: 'decimal', scale: 2 }, 'DECIMAL(18,4)'), null);
    assert.equal(duckMismatch({ kind: 'timestamptz' }, 'TIMESTAMP WITH TIME ZONE'), null);
    assert.equal(duckMismatch({ kind: 'float' }, 'FLOAT'), null);
    assert.match(duckMismatch({ kind: 'int' }, 'VARCHAR') ?? '', /the DuckDB column is VARCHAR/);
    assert.match(duckMismatch({ kind: 'decimal', scale: 4 }, 'DECIMAL(10,2)') ?? '', /DECIMAL\(10,2\)/);
  });

  test('keys: the classes every side orders alike', () => {
    for (const k of ['int', 'text', 'char', 'uuid', 'bytes', 'date', 'timestamp', 'timestamptz'] as const) assert.ok(isKeyClass({ kind: k }), k);
    for (const k of ['float', 'bool', 'json', 'time', 'set'] as const) assert.ok(!isKeyClass({ kind: k }), k);
  });
});
