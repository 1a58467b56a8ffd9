import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { ColumnClass } from '../../../src/verify/column-class.js';
import { duckdbDialect } from '../../../src/verify/dialect-duckdb.js';
import { floatText } from '../../helpers/canonical.js';
import { jsonText } from '../../../src/destinations/duckdb/duckdb-sql.js';

const d = duckdbDialect();

describe('canonical texts in DuckDB (in-process)', () => {
  let db: DuckDBInstance;
  let c: DuckDBConnection;
  before(async () => {
    db = await DuckDBInstance.create(':memory:');
    c = await db.connect();
  });
  after(() => {
    c.closeSync();
    db.closeSync();
  });

  const canonical = async (cls: ColumnClass, type: string, literal: string): Promise<unknown> => {
    const expr = d.canonical({ name: 'v', cls, type });
    const rows = (await c.runAndReadAll(`SELECT ${expr} AS t FROM (SELECT CAST(${literal} AS ${type}) AS v)`)).getRowsJson();
    return rows[0]?.[0];
  };

  test('floats: exact binary value, the same as computed in JavaScript', async () => {
    const values = [0.1, 3, -2.5, 1e20, 1e-300, 5e-324, 2 ** -1022, Number.MAX_VALUE, -Number.MIN_VALUE, 2 ** 52 + 1, 1 / 3, 0.5, 1, 2, 4];
    for (const v of values) assert.equal(await canonical({ kind: 'float' }, 'DOUBLE', `'${v}'`), floatText(v), String(v));
    for (const v of ['nan', 'inf', '-inf']) assert.equal(await canonical({ kind: 'float' }, 'DOUBLE', `'${v}'`), v);
    assert.equal(await canonical({ kind: 'float' }, 'DOUBLE', "'-0.0'"), '0');
    assert.equal(await canonical({ kind: 'float' }, 'FLOAT', "'1.1'"), floatText(Math.fround(1.1)));
  });

  test('dates, timestamps and times as day and microsecond counts', async () => {
    assert.equal(await canonical({ kind: 'date' }, 'DATE', "'1969-12-31'"), '-1');
    assert.equal(await canonical({ kind: 'date' }, 'DATE', "'2024-02-29'"), String(Date.UTC(2024, 1, 29) / 86_400_000));
    assert.equal(await canonical({ kind: 'date' }, 'DATE', "'infinity'"), 'inf');
    assert.equal(await canonical({ kind: 'timestamp' }, 'TIMESTAMP', "'1969-12-31 23:59:59.999999'"), '-1');
    assert.equal(await canonical({ kind: 'timestamptz' }, 'TIMESTAMPTZ', "'2024-01-02 03:04:05.000006+02'"), String(Date.UTC(2024, 0, 2, 1, 4, 5) * 1000 + 6));
    assert.equal(await canonical({ kind: 'timestamptz' }, 'TIMESTAMPTZ', "'-infinity'"), '-inf');
    assert.equal(await canonical({ kind: 'time' }, 'TIME', "'23:59:59.999999'"), '86399999999');
    assert.equal(await canonical({ kind: 'time' }, 'INTERVAL', "'-838:59:59'"), String(-3020399 * 1_000_000));
  });

  test('decimals with the source scale, bytes as hex, char without trailing blanks, SET as its list', async () => {
    assert.equal(await canonical({ kind: 'decimal', scale: 2 }, 'DECIMAL(12,2)', "'-1.5'"), '-1.50');
    assert.equal(await canonical({ kind: 'decimal', scale: 2 }, 'DECIMAL(18,4)', "'1.5'"), '1.50', 'a widened column prints the source scale');
    assert.equal(await canonical({ kind: 'bytes' }, 'BLOB', "'\\x00\\xFF'"), '00ff');
    assert.equal(await canonical({ kind: 'char' }, 'VARCHAR', "'ab   '"), 'ab');
    assert.equal(await canonical({ kind: 'set' }, 'VARCHAR[]', "['a','c']"), 'a,c');
    assert.equal(await canonical({ kind: 'bool' }, 'BOOLEAN', 'NULL'), null);
  });

  test('row hash: length-prefixed texts, NULL distinct from empty, 60 bits', async () => {
    const hash = async (...texts: string[]): Promise<string> => {
      const rows = (await c.runAndReadAll(`SELECT ${d.intText(d.rowHash(texts))}`)).getRowsJson();
      return jsonText(rows[0]?.[0]) ?? '';
    };
    assert.notEqual(await hash("'ab'", "'c'"), await hash("'a'", "'bc'"));
    assert.notEqual(await hash('NULL'), await hash("''"));
    assert.ok(BigInt(await hash("'x'")) < 2n ** 60n);
    // md5('1:x') = 9d4c…: its first 15 hex digits
    const rows = (await c.runAndReadAll("SELECT md5('1:x')")).getRowsJson();
    assert.equal(await hash("'x'"), BigInt(`0x${(jsonText(rows[0]?.[0]) ?? '').slice(0, 15)}`).toString());
  });
});
