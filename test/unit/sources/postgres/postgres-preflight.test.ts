import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NoPrimaryKeyError, SourceSettingError } from '../../../../src/errors.js';
import { checkSlotCapacity, checkTable, checkWalLevel } from '../../../../src/sources/postgres/postgres-preflight.js';
import { describeSchemaChange } from '../../../../src/sources/schema-tracker.js';

describe('preflight checks', () => {
  test('wal_level', () => {
    assert.doesNotThrow(() => checkWalLevel('logical'));
    assert.throws(() => checkWalLevel('replica'), (e: unknown) => e instanceof SourceSettingError && /wal_level = logical/.test(e.message) && /npm run setup/.test(e.message));
  });
  test('slot capacity', () => {
    assert.doesNotThrow(() => checkSlotCapacity(false, 9, 10));
    assert.doesNotThrow(() => checkSlotCapacity(true, 10, 10));
    assert.throws(() => checkSlotCapacity(false, 10, 10), /max_replication_slots/);
  });
  const facts = { table: 'public.t', primaryKey: ['id'], replicaIdentity: 'd' };
  test('keyless tables', () => {
    assert.throws(() => checkTable({ ...facts, primaryKey: [], replicaIdentity: 'f' }, { mode: 'merge', keyless: 'error' }), (e: unknown) => e instanceof NoPrimaryKeyError && /keyless: append/.test(e.message));
    assert.doesNotThrow(() => checkTable({ ...facts, primaryKey: [], replicaIdentity: 'f' }, { mode: 'merge', keyless: 'append' }));
    assert.throws(() => checkTable({ ...facts, primaryKey: [] }, { mode: 'append', keyless: 'error' }), /REPLICA IDENTITY FULL/);
  });
  test('replica identity', () => {
    assert.throws(() => checkTable({ ...facts, replicaIdentity: 'n' }, { mode: 'merge', keyless: 'error' }), /REPLICA IDENTITY NOTHING/);
    assert.doesNotThrow(() => checkTable(facts, { mode: 'merge', keyless: 'error' }));
    assert.doesNotThrow(() => checkTable({ ...facts, replicaIdentity: 'f' }, { mode: 'merge', keyless: 'error' }));
  });
});

describe('describeSchemaChange', () => {
  const col = (name: string, sourceType = 'integer') => ({ name, sourceType, duckType: 'INTEGER', encoding: 'text' as const });
  test('new table, added, retyped and dropped columns', () => {
    const before = { table: 'public.t', columns: [col('a'), col('b')], primaryKey: ['a'] };
    assert.match(describeSchemaChange(undefined, before)[0]!, /new table/);
    const after = { table: 'public.t', columns: [col('a', 'bigint'), col('c')], primaryKey: ['a'] };
    assert.deepEqual(describeSchemaChange(before, after), [
      'public.t: column a changed type integer -> bigint',
      'public.t: added column c (integer)',
      'public.t: column b dropped at the source (kept, null from now on)',
    ]);
  });
});
