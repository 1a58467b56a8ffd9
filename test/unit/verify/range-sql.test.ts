import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SideColumn } from '../../../src/verify/column-class.js';
import { duckdbDialect } from '../../../src/verify/dialect-duckdb.js';
import { mysqlDialect } from '../../../src/verify/dialect-mysql.js';
import { postgresDialect } from '../../../src/verify/dialect-postgres.js';
import { lookupSql, rangeWhere, summarySql, type TableSql } from '../../../src/verify/range-sql.js';
import { Params, type Dialect } from '../../../src/verify/dialect.js';

const region: SideColumn = { name: 'region', cls: { kind: 'text' }, type: 'text' };
const id: SideColumn = { name: 'id', cls: { kind: 'int' }, type: 'integer' };
const table = (dialect: Dialect): TableSql => ({ dialect, from: 't', keys: [region, id], compared: [region, id], live: null });

describe('range predicates over composite keys', () => {
  test('expanded lexicographic comparisons, not row values, led by the first column', () => {
    const p = new Params(mysqlDialect());
    const where = rangeWhere(table(mysqlDialect()), { from: ['eu', '7'], to: ['us', '3'] }, p);
    assert.doesNotMatch(where, /\(\s*`region`\s*,/, 'no row-value comparison');
    const order = 'CAST(CAST(`region` AS CHAR CHARACTER SET utf8mb4) AS BINARY)';
    assert.ok(where.includes(`${order} >= CAST(? AS BINARY) AND ((${order} > CAST(? AS BINARY)) OR (${order} = CAST(? AS BINARY) AND \`id\` > CAST(? AS SIGNED)))`), where);
    assert.ok(where.includes(`${order} <= CAST(? AS BINARY) AND ((${order} < CAST(? AS BINARY)) OR (${order} = CAST(? AS BINARY) AND \`id\` < CAST(? AS SIGNED)) OR (${order} = CAST(? AS BINARY) AND \`id\` = CAST(? AS SIGNED)))`), where);
    // MySQL placeholders are positional: values in the order they appear.
    assert.deepEqual(p.values, ['eu', 'eu', 'eu', '7', 'us', 'us', 'us', '3', 'us', '3']);
  });

  test('PostgreSQL numbers its parameters and compares texts by bytes (COLLATE "C")', () => {
    const { sql, params } = summarySql(table(postgresDialect()), { from: ['eu', '7'], to: null });
    assert.match(sql, /COLLATE "C"\) >= CAST\(\$1 AS text\)/);
    assert.match(sql, /"id" > CAST\(\$4 AS integer\)/);
    assert.deepEqual(params, ['eu', 'eu', 'eu', '7']);
  });

  test('DuckDB inlines key texts as quoted literals and counts live rows only', () => {
    const t = { ...table(duckdbDialect()), live: 'NOT "__deleted"' };
    const { sql, params } = lookupSql(t, [["it's", '1']]);
    assert.deepEqual(params, ["it's", '1']);
    assert.match(sql, /WHERE NOT "__deleted" AND \(\("region" = 'it''s' AND "id" = CAST\('1' AS integer\)\)\)/);
  });

  test('no bounds: the whole table (live rows on DuckDB)', () => {
    assert.equal(rangeWhere(table(postgresDialect()), { from: null, to: null }, new Params(postgresDialect())), '');
    const t = { ...table(duckdbDialect()), live: 'NOT "__deleted"' };
    assert.equal(rangeWhere(t, { from: null, to: null }, new Params(duckdbDialect())), 'WHERE NOT "__deleted"');
  });
});
