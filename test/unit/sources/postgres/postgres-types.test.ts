import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BadValueError } from '../../../../src/errors.js';
import { mapPgType, numericScalar, type PgTypeInfo } from '../../../../src/sources/postgres/postgres-types.js';

const base = (name: string, oid = 0): PgTypeInfo => ({ oid, name, typtype: 'b', category: 'X', elem: null, base: null, baseTypmod: -1 });
const arrayOf = (elem: PgTypeInfo): PgTypeInfo => ({ ...base(`_${elem.name}`), category: 'A', elem });
const domainOf = (b: PgTypeInfo, baseTypmod = -1): PgTypeInfo => ({ ...base('my_domain'), typtype: 'd', base: b, baseTypmod });
const numericMod = (p: number, s: number): number => ((p << 16) | (s & 0x7ff)) + 4;

const noWarn = (m: string): void => assert.fail(`unexpected warning: ${m}`);
const map = (t: PgTypeInfo, typmod = -1, ndims = 0) => mapPgType(t, typmod, ndims, noWarn);

describe('mapPgType', () => {
  test('scalars', () => {
    const expected: [string, string][] = [
      ['int2', 'SMALLINT'], ['int4', 'INTEGER'], ['int8', 'BIGINT'], ['oid', 'BIGINT'], ['float4', 'REAL'], ['float8', 'DOUBLE'],
      ['bool', 'BOOLEAN'], ['text', 'VARCHAR'], ['varchar', 'VARCHAR'], ['bpchar', 'VARCHAR'], ['name', 'VARCHAR'], ['citext', 'VARCHAR'],
      ['date', 'DATE'], ['time', 'TIME'], ['timetz', 'TIMETZ'], ['timestamp', 'TIMESTAMP'], ['timestamptz', 'TIMESTAMPTZ'],
      ['interval', 'INTERVAL'], ['uuid', 'UUID'], ['json', 'JSON'], ['jsonb', 'JSON'], ['bytea', 'BLOB'],
      ['inet', 'VARCHAR'], ['cidr', 'VARCHAR'], ['money', 'VARCHAR'], ['point', 'VARCHAR'], ['tsvector', 'VARCHAR'], ['xml', 'VARCHAR'], ['bit', 'VARCHAR'],
    ];
    for (const [pg, duck] of expected) assert.equal(map(base(pg)).duckType, duck, pg);
    assert.equal(map(base('bytea')).encoding, 'hex');
    assert.equal(map(base('int4')).encoding, 'text');
  });
  test('numeric: DECIMAL when it fits, exact text otherwise', () => {
    assert.equal(map(base('numeric'), numericMod(12, 2)).duckType, 'DECIMAL(12,2)');
    assert.equal(map(base('numeric'), numericMod(38, 0)).duckType, 'DECIMAL(38,0)');
    assert.equal(map(base('numeric'), numericMod(39, 2)).duckType, 'VARCHAR');
    assert.equal(map(base('numeric')).duckType, 'VARCHAR');
    assert.equal(numericScalar(numericMod(5, -2)).duckType, 'VARCHAR'); // PG15 negative scale
    assert.equal(numericScalar(numericMod(2, 5)).duckType, 'VARCHAR'); // scale > precision
  });
  test('NaN in a DECIMAL column becomes NULL with a warning; plain numeric keeps it as text', () => {
    const warnings: string[] = [];
    const m = mapPgType(base('numeric'), numericMod(10, 2), 0, (w) => warnings.push(w));
    assert.equal(m.convert('NaN'), null);
    assert.equal(m.convert('-12.50'), '-12.50');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /NaN/);
    assert.equal(map(base('numeric')).convert('NaN'), 'NaN');
  });
  test('enums and domains', () => {
    assert.equal(map({ ...base('mood'), typtype: 'e' }).duckType, 'VARCHAR');
    assert.equal(map(domainOf(base('int8'))).duckType, 'BIGINT');
    assert.equal(map(domainOf(base('numeric'), numericMod(8, 3))).duckType, 'DECIMAL(8,3)');
    assert.equal(map(domainOf(domainOf(base('timestamptz')))).duckType, 'TIMESTAMPTZ');
    assert.equal(map({ ...base('range'), typtype: 'r' }).duckType, 'VARCHAR');
  });
  test('arrays', () => {
    assert.deepEqual([map(arrayOf(base('int4'))).duckType, map(arrayOf(base('int4'))).encoding], ['INTEGER[]', 'json']);
    assert.equal(map(arrayOf(base('numeric')), numericMod(10, 2)).duckType, 'DECIMAL(10,2)[]');
    assert.equal(map(arrayOf({ ...base('mood'), typtype: 'e' })).duckType, 'VARCHAR[]');
    assert.equal(map(arrayOf(base('bytea'))).duckType, 'VARCHAR');
    assert.equal(map(arrayOf(base('point'))).duckType, 'VARCHAR');
    assert.equal(map(arrayOf(base('int4')), -1, 2).duckType, 'VARCHAR');
    assert.equal(map(domainOf(arrayOf(base('text')))).duckType, 'VARCHAR[]');
  });
});

describe('value conversion', () => {
  test('bool, bytea, BC dates, intervals', () => {
    assert.equal(map(base('bool')).convert('t'), 'true');
    assert.equal(map(base('bool')).convert('f'), 'false');
    assert.equal(map(base('bytea')).convert('\\x0102ab'), '0102ab');
    assert.equal(map(base('bytea')).convert('\\x'), '');
    assert.equal(map(base('date')).convert('0044-03-15 BC'), '-0043-03-15');
    assert.equal(map(base('date')).convert('0001-01-01 BC'), '-0000-01-01');
    assert.equal(map(base('timestamptz')).convert('0044-03-15 10:00:00.5+00 BC'), '-0043-03-15 10:00:00.5+00');
    assert.equal(map(base('date')).convert('infinity'), 'infinity');
    assert.equal(map(base('timestamptz')).convert('2024-01-02 03:04:05.123456+00'), '2024-01-02 03:04:05.123456+00');
    assert.equal(map(base('interval')).convert('-1 years -2 mons +3 days -04:05:06'), '-1 years -2 mons 3 days -04:05:06');
    assert.equal(map(base('interval')).convert('1 day -00:00:01'), '1 day -00:00:01');
    assert.equal(map(base('float8')).convert('NaN'), 'NaN');
  });
  test('arrays become JSON arrays of converted elements', () => {
    assert.equal(map(arrayOf(base('int4'))).convert('{1,2,NULL,-3}'), '["1","2",null,"-3"]');
    assert.equal(map(arrayOf(base('text'))).convert('{"a,b","x\\"y\\\\z",NULL,"NULL",""}'), '["a,b","x\\"y\\\\z",null,"NULL",""]');
    assert.equal(map(arrayOf(base('bool'))).convert('{t,f}'), '["true","false"]');
    assert.equal(map(arrayOf(base('jsonb'))).convert('{"{\\"a\\": 1}",NULL}'), '[{"a": 1},null]');
    assert.equal(map(arrayOf(base('date'))).convert('{2024-01-01,"0044-03-15 BC"}'), '["2024-01-01","-0043-03-15"]');
    assert.equal(map(arrayOf(base('int4'))).convert('{}'), '[]');
  });
  test('a multi-dimensional value in a one-dimensional column is refused clearly', () => {
    assert.throws(() => map(arrayOf(base('int4'))).convert('{{1,2},{3,4}}'), BadValueError);
  });
});
