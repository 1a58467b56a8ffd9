import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ValueEncoding } from '../../../src/model/table-schema.js';
import { column, Harness, row, schema } from './duckdb-kit.js';

/** [duckType, encoding, staged text, expected CAST(col AS VARCHAR) in DuckDB (defaults to the text)] */
const CASES: [string, ValueEncoding, string, string?][] = [
  ['BOOLEAN', 'text', 'true'],
  ['SMALLINT', 'text', '-32768'],
  ['INTEGER', 'text', '2147483647'],
  ['BIGINT', 'text', '-9223372036854775808'],
  ['UBIGINT', 'text', '18446744073709551615'],
  ['HUGEINT', 'text', '-170141183460469231731687303715884105728'],
  ['DECIMAL(38,10)', 'text', '1234567890123456789012345678.0123456789'],
  ['DECIMAL(5,2)', 'text', '-0.50'],
  ['REAL', 'text', '3.4028235e+38'],
  ['DOUBLE', 'text', '2.2250738585072014e-308'],
  ['DOUBLE', 'text', 'NaN', 'nan'],
  ['VARCHAR', 'text', 'multi\nline "quoted" \'single\' ünïcødé 🦆 \\x00'],
  ['BLOB', 'hex', '00ff5c78', '\\x00\\xFF\\x5Cx'],
  ['DATE', 'text', '2024-02-29'],
  ['DATE', 'text', '-infinity'],
  ['TIME', 'text', '23:59:59.999999'],
  ['TIMETZ', 'text', '04:05:06.789+05:30'],
  ['TIMESTAMP', 'text', '2024-02-29 12:34:56.123456'],
  ['TIMESTAMPTZ', 'text', '2024-02-29 12:34:56.123456+02', '2024-02-29 10:34:56.123456+00'],
  ['INTERVAL', 'text', '1 year 2 mons 3 days 04:05:06.789', '1 year 2 months 3 days 04:05:06.789'],
  ['INTERVAL', 'text', '-1 days -00:00:01', '-1 day -00:00:01'],
  ['UUID', 'text', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  ['JSON', 'text', '{"b": [1, 2.50, null], "a": "x\\"y"}'],
  ['INTEGER[]', 'json', '[1, null, -3]', '[1, NULL, -3]'],
  ['VARCHAR[]', 'json', '["a", "b,c", null, "d\\"e", ""]', '[a, \'b,c\', NULL, \'d"e\', \'\']'],
  ['DECIMAL(10,2)[]', 'json', '["1.10", "-2.25"]', '[1.10, -2.25]'],
];

describe('DuckDB destination, value types', () => {
  let h: Harness;
  before(async () => {
    h = await Harness.open();
  });
  after(async () => {
    await h.close();
  });

  for (const mode of ['merge', 'append'] as const) {
    test(`every source type round-trips exactly from its text form (${mode})`, async () => {
      const table = `types.${mode}`;
      const columns = [column('id', 'INTEGER'), ...CASES.map(([type, enc], i) => column(`c${i}`, type, enc))];
      const values = ['1', ...CASES.map(([, , text]) => text)];
      await h.apply([schema(table, columns), row(table, 'insert', values), row(table, 'insert', ['2', ...CASES.map(() => null)])], { mode });
      const select = CASES.map((_, i) => `CAST(c${i} AS VARCHAR) AS c${i}`).join(', ');
      const [stored, nulls] = await h.query(`SELECT ${select} FROM types.${mode} ORDER BY id`);
      CASES.forEach(([type, , text, expected], i) => {
        assert.equal(stored?.[`c${i}`], expected ?? text, `${type} from ${JSON.stringify(text)}`);
        assert.equal(nulls?.[`c${i}`], null, `${type} NULL`);
      });
      const [typed] = await h.query(
        `SELECT hex(c12) AS blob, c4::VARCHAR = '18446744073709551615' AS ubig, typeof(c22) AS json FROM types.${mode} WHERE id = 1`,
      );
      assert.deepEqual(typed, { blob: '00FF5C78', ubig: true, json: 'JSON' });
    });
  }
});
