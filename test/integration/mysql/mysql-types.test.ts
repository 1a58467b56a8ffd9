import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { admin, DB, drain, makeSpec, newSource, uniqueName } from './mysql-kit.js';

const COLUMNS = `id INT PRIMARY KEY,
  ti TINYINT, tu TINYINT UNSIGNED, tb TINYINT(1), si SMALLINT, mi MEDIUMINT, mu MEDIUMINT UNSIGNED,
  i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED,
  d DECIMAL(38,10), d65 DECIMAL(65,30), f FLOAT, dbl DOUBLE,
  c CHAR(3), vc VARCHAR(20), tx TEXT, bn BINARY(4), vb VARBINARY(8), bl BLOB,
  dt DATE, dt0 DATETIME, dt6 DATETIME(6), ts6 TIMESTAMP(6) NULL, tm TIME(3), yr YEAR,
  j JSON, e ENUM('x','y'), s SET('a','b','c'), b BIT(10), b64 BIT(64),
  u UUID, i4 INET4, i6 INET6, g POINT`;

const VALUES = `-128, 255, 2, -32768, -8388608, 16777215, -2147483648, 4294967295,
  -9223372036854775808, 18446744073709551615,
  '-1234567890123456789012345678.0123456789', '12345678901234567890123456789012345.123456789012345678901234567890',
  1.2345678, 0.1, 'ab', 'héllo ✓ 😀', 'multi\\nline', x'00ff', x'00ff10', x'00ff',
  '2024-02-29', '2024-01-01 00:00:00', '2024-02-03 04:05:06.654321', '2024-02-03 04:05:06.123456', '-838:59:59.500', 2024,
  '{"a": [1, 2.5, "x"], "big": 18446744073709551615}', 'y', 'a,c', b'1010000001', b'${'1'.repeat(64)}',
  UUID(), '10.0.0.1', '2001:db8::ff00:42:8329', ST_GeomFromText('POINT(1.5 2)')`;

/** The exact staged text for the row above (UUID filled in from the server). */
function expected(uuid: string): Record<string, string> {
  return {
    ti: '-128', tu: '255', tb: '2', si: '-32768', mi: '-8388608', mu: '16777215', i: '-2147483648', iu: '4294967295',
    bi: '-9223372036854775808', bu: '18446744073709551615',
    d: '-1234567890123456789012345678.0123456789', d65: '12345678901234567890123456789012345.123456789012345678901234567890',
    // FLOAT with more digits than the text protocol prints (6): the snapshot must not round it.
    f: '1.2345678', dbl: '0.1', c: 'ab', vc: 'héllo ✓ 😀', tx: 'multi\nline', bn: '00ff0000', vb: '00ff10', bl: '00ff',
    dt: '2024-02-29', dt0: '2024-01-01 00:00:00', dt6: '2024-02-03 04:05:06.654321', ts6: '2024-02-03 04:05:06.123456+00',
    tm: '-838:59:59.500', yr: '2024', j: '{"a": [1, 2.5, "x"], "big": 18446744073709551615}', e: 'y', s: '["a","c"]',
    b: '641', b64: '18446744073709551615', u: uuid, i4: '10.0.0.1', i6: '2001:db8::ff00:42:8329', g: '{"x":1.5,"y":2}',
  };
}

const DUCK_TYPES = {
  ti: 'SMALLINT', tu: 'USMALLINT', tb: 'SMALLINT', si: 'SMALLINT', mi: 'INTEGER', mu: 'UINTEGER', i: 'INTEGER', iu: 'UINTEGER',
  bi: 'BIGINT', bu: 'UBIGINT', d: 'DECIMAL(38,10)', d65: 'VARCHAR', f: 'REAL', dbl: 'DOUBLE', c: 'VARCHAR', vc: 'VARCHAR',
  tx: 'VARCHAR', bn: 'BLOB', vb: 'BLOB', bl: 'BLOB', dt: 'DATE', dt0: 'TIMESTAMP', dt6: 'TIMESTAMP', ts6: 'TIMESTAMPTZ',
  tm: 'INTERVAL', yr: 'SMALLINT', j: 'JSON', e: 'VARCHAR', s: 'VARCHAR[]', b: 'UBIGINT', b64: 'UBIGINT', u: 'UUID',
  i4: 'VARCHAR', i6: 'VARCHAR', g: 'VARCHAR',
};

describe('mysql value types', () => {
  let db: Connection;
  before(async () => {
    db = await admin();
    await db.query("SET time_zone = '+00:00'");
  });
  after(async () => {
    await db.end();
  });

  test('every type stages the same exact text from the snapshot and from the binlog', async () => {
    const t = uniqueName('types');
    await db.query(`CREATE TABLE ${t} (${COLUMNS})`);
    await db.query(`INSERT INTO ${t} VALUES (1, ${VALUES}), (2${', NULL'.repeat(35)})`);
    // a non-time-based UUID too, and YEAR 0000, which zongji decodes as 1900
    await db.query(`INSERT INTO ${t} (id, u, yr) VALUES (3, '12345678-1234-5678-1234-567812345678', 0)`);
    const source = newSource(makeSpec([`${DB}.${t}`], { snapshot: { enabled: true, chunkRows: 100 } }));
    try {
      const plan = await source.prepare();
      await db.query(`INSERT INTO ${t} SELECT id + 10, ${Object.keys(DUCK_TYPES).join(', ')} FROM ${t}`);
      const [uuidRows] = await db.query<RowDataPacket[]>(`SELECT CAST(u AS CHAR) AS u FROM ${t} WHERE id = 1`);
      const want = expected(String(uuidRows[0]!.u));

      const { sink } = await drain(source, plan);
      const rows = sink.rows(`${DB}.${t}`);
      const snap = rows.filter((r) => r.op === 'snapshot');
      const streamed = rows.filter((r) => r.op === 'insert');
      assert.equal(snap.length, 3);
      assert.equal(streamed.length, 3);
      for (const [label, rows3] of [['snapshot', snap], ['binlog', streamed]] as const) {
        const [row1, row2, row3] = rows3 as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
        for (const [col, value] of Object.entries(want)) assert.equal(row1[col], value, `${label} ${col}`);
        for (const col of Object.keys(want)) assert.equal(row2[col], null, `${label} ${col} NULL`);
        assert.equal(row3.u, '12345678-1234-5678-1234-567812345678', `${label} uuid`);
        assert.equal(row3.yr, '0', `${label} YEAR 0000`);
      }

      // one schema whichever path read the rows
      const schemas = sink.records.filter((r) => r.event.op !== 'snapshot');
      const snapshotSchema = sink.records.find((r) => r.event.op === 'snapshot')!.schema;
      assert.deepEqual(schemas[0]!.schema, snapshotSchema);
      const types = Object.fromEntries(snapshotSchema.columns.map((c) => [c.name, c.duckType]));
      assert.deepEqual(types, { id: 'INTEGER', ...DUCK_TYPES });
      const encodings = Object.fromEntries(snapshotSchema.columns.filter((c) => c.encoding !== 'text').map((c) => [c.name, c.encoding]));
      assert.deepEqual(encodings, { bn: 'hex', vb: 'hex', bl: 'hex', s: 'json' });
    } finally {
      await source.close();
    }
  });
});
