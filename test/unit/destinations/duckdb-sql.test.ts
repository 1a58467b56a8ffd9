import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAppendSql } from '../../../src/destinations/duckdb/duckdb-append.js';
import { buildMergeSql } from '../../../src/destinations/duckdb/duckdb-merge.js';
import type { SegmentPlan } from '../../../src/destinations/duckdb/duckdb-plan.js';
import { decodeValue, quoteIdent, quoteLiteral, tableRef } from '../../../src/destinations/duckdb/duckdb-sql.js';
import type { ColumnSchema } from '../../../src/model/table-schema.js';

const col = (name: string, duckType: string, encoding: ColumnSchema['encoding'] = 'text'): ColumnSchema => ({
  name,
  sourceType: duckType,
  duckType,
  encoding,
});

function plan(primaryKey: string[]): SegmentPlan {
  const columns = [col('id', 'INTEGER'), col('data', 'BLOB', 'hex')];
  return {
    schema: { table: 's.t', columns, primaryKey },
    table: {
      ref: '"db"."s"."t"',
      columns: [
        { duck: 'id', sourceType: 'INTEGER', targetType: 'INTEGER' },
        { duck: 'data', sourceType: 'BLOB', targetType: 'BLOB' },
      ],
      notes: [],
      dropped: [],
      resync: null,
    },
    stage: 'stage',
  };
}

describe('DuckDB SQL text', () => {
  test('identifiers are always quoted, embedded quotes doubled', () => {
    assert.equal(quoteIdent('Order Id'), '"Order Id"');
    assert.equal(quoteIdent('a"b'), '"a""b"');
    assert.equal(quoteLiteral("it's"), "'it''s'");
    assert.equal(tableRef('my db', 'My Schema', 'Or"ders.x'), '"my db"."My Schema"."Or""ders.x"');
  });

  test('values decode by encoding, then cast to a differing destination type', () => {
    assert.equal(decodeValue('v', col('a', 'INTEGER'), 'INTEGER', 'INTEGER'), 'CAST(v AS INTEGER)');
    assert.equal(decodeValue('v', col('a', 'BLOB', 'hex'), 'BLOB', 'BLOB'), 'from_hex(v)');
    assert.equal(decodeValue('v', col('a', 'INTEGER[]', 'json'), 'INTEGER[]', 'INTEGER[]'), 'CAST(CAST(v AS JSON) AS INTEGER[])');
    assert.equal(decodeValue('v', col('a', 'INTEGER'), 'INTEGER', 'VARCHAR'), 'CAST(CAST(v AS INTEGER) AS VARCHAR)');
  });

  test('merge resolves per key with NULL-preserving arg_max under a sent filter', () => {
    const sql = buildMergeSql(plan(['id']));
    assert.match(sql, /^MERGE INTO "db"\."s"\."t" AS t/);
    assert.match(sql, /arg_max_null\(c\[2\], n\) FILTER \(WHERE s1\)/);
    assert.match(sql, /o <> 'd' AND \(u IS NULL OR NOT list_contains\(u, 1\)\) AS s1/);
    assert.match(sql, /"data" = CASE WHEN r\.h1 THEN r\.v1 ELSE t\."data" END/);
    assert.throws(() => buildMergeSql(plan([])), /primary key/);
  });

  test('merge with key moves deletes the old key just before the update that moved it', () => {
    assert.doesNotMatch(buildMergeSql(plan(['id'])), /UNION ALL/);
    const sql = buildMergeSql(plan(['id']), true);
    assert.match(sql, /SELECT n \* 2 AS n, o, p, t, u, c FROM stage/);
    assert.match(sql, /SELECT n \* 2 - 1, 'd', p, t, NULL, CAST\(\[k\[1\], NULL\] AS VARCHAR\[\]\) FROM stage WHERE k IS NOT NULL/);
  });

  test('append only builds the fill joins when a keyed segment has unsent values', () => {
    assert.doesNotMatch(buildAppendSql(plan(['id']), new Set()), /prev/);
    assert.doesNotMatch(buildAppendSql(plan([]), new Set([1])), /prev/);
    assert.match(buildAppendSql(plan(['id']), new Set([1])), /ORDER BY x\.rowid DESC/);
  });
});
