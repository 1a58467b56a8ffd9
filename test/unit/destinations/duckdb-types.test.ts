import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decideTypeChange, widens } from '../../../src/destinations/duckdb/duckdb-types.js';

describe('DuckDB type evolution rules', () => {
  test('lossless widenings alter the column to the new type', () => {
    for (const [from, to] of [
      ['INTEGER', 'BIGINT'],
      ['SMALLINT', 'HUGEINT'],
      ['UINTEGER', 'BIGINT'],
      ['UBIGINT', 'HUGEINT'],
      ['INTEGER', 'DECIMAL(10,0)'],
      ['BIGINT', 'DECIMAL(38,2)'],
      ['DECIMAL(10,2)', 'DECIMAL(18,2)'],
      ['DECIMAL(10,2)', 'DECIMAL(12,4)'],
      ['FLOAT', 'DOUBLE'],
      ['INTEGER', 'DOUBLE'],
      ['DATE', 'TIMESTAMP'],
      ['INTEGER[]', 'BIGINT[]'],
      ['TIMESTAMP WITH TIME ZONE', 'VARCHAR'],
    ]) {
      assert.deepEqual(decideTypeChange(from!, to!), { action: 'alter', to }, `${from} -> ${to}`);
    }
  });

  test('a narrowing keeps the wider column, and VARCHAR stays VARCHAR', () => {
    for (const [from, to] of [
      ['BIGINT', 'INTEGER'],
      ['DECIMAL(18,2)', 'DECIMAL(10,2)'],
      ['VARCHAR', 'INTEGER'],
      ['VARCHAR', 'JSON'],
      ['DOUBLE', 'FLOAT'],
      ['HUGEINT', 'UBIGINT'],
      ['INTEGER', 'INTEGER'],
    ]) {
      assert.deepEqual(decideTypeChange(from!, to!), { action: 'keep' }, `${from} -> ${to}`);
    }
  });

  test('unrelated or lossy changes fall back to VARCHAR', () => {
    for (const [from, to] of [
      ['DATE', 'INTEGER'],
      ['BIGINT', 'UBIGINT'],
      ['BIGINT', 'DOUBLE'],
      ['DECIMAL(10,2)', 'DECIMAL(10,3)'],
      ['DECIMAL(10,2)', 'DOUBLE'],
      ['TIMESTAMP', 'TIMESTAMP WITH TIME ZONE'],
      ['JSON', 'INTEGER[]'],
      ['BOOLEAN', 'INTEGER'],
    ]) {
      assert.deepEqual(decideTypeChange(from!, to!), { action: 'alter', to: 'VARCHAR' }, `${from} -> ${to}`);
    }
  });

  test('widens is not symmetric', () => {
    assert.equal(widens('INTEGER', 'BIGINT'), true);
    assert.equal(widens('BIGINT', 'INTEGER'), false);
    assert.equal(widens('BIGINT', 'DECIMAL(18,0)'), false);
    assert.equal(widens('BIGINT', 'DECIMAL(19,0)'), true);
  });
});
