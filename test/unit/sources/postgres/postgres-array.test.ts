import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePgArray, pgArrayToJson } from '../../../../src/sources/postgres/postgres-array.js';

describe('parsePgArray', () => {
  test('plain, quoted, escaped and NULL elements', () => {
    assert.deepEqual(parsePgArray('{1,2,NULL,"a,b"}'), ['1', '2', null, 'a,b']);
    assert.deepEqual(parsePgArray('{"NULL",null,"x\\"y","back\\\\slash","{}"}'), ['NULL', null, 'x"y', 'back\\slash', '{}']);
    assert.deepEqual(parsePgArray('{"a b","",  c }'), ['a b', '', 'c']);
    assert.deepEqual(parsePgArray('{}'), []);
    assert.deepEqual(parsePgArray('{"ünï","日本"}'), ['ünï', '日本']);
  });
  test('nested arrays and explicit bounds', () => {
    assert.deepEqual(parsePgArray('{{1,2},{3,NULL}}'), [['1', '2'], ['3', null]]);
    assert.deepEqual(parsePgArray('[2:3]={1,2}'), ['1', '2']);
  });
  test('malformed input throws', () => {
    for (const bad of ['', '1,2', '{1,2', '{1,,2}', '{"a}', '{1}x', '[1:2]{1,2}']) assert.throws(() => parsePgArray(bad), SyntaxError, bad);
  });
});

describe('pgArrayToJson', () => {
  test('strings by default, raw elements for JSON, null for more than one dimension', () => {
    assert.equal(pgArrayToJson('{1,NULL}', (s) => s, false), '["1",null]');
    assert.equal(pgArrayToJson('{"{\\"k\\": [1]}"}', (s) => s, true), '[{"k": [1]}]');
    assert.equal(pgArrayToJson('{{1}}', (s) => s, false), null);
    assert.equal(pgArrayToJson('{a}', () => null, false), '[null]');
  });
});
