import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { segmentError } from '../../../src/destinations/duckdb/duckdb-errors.js';
import { BadValueError } from '../../../src/errors.js';

describe('segmentError: what a failed load of one table is', () => {
  test('a value DuckDB cannot convert is a BadValueError naming the table; a plan on wrong statistics is not', () => {
    const bad = segmentError('s.t', '00001.ndjson', new Error("Conversion Error: Could not convert string 'x' to INT32"));
    assert.ok(bad instanceof BadValueError);
    assert.match(bad.message, /^loading s\.t \(00001\.ndjson\): Conversion Error/);
    const stats = segmentError(
      's.t',
      '00002.ndjson',
      new Error('Invalid Input Error: Perfect hash aggregate: aggregate group 245 exceeded total groups 32. This likely means that the statistics in your data source are corrupt.'),
    );
    assert.ok(!(stats instanceof BadValueError), 'not blamed on the source');
    assert.match(stats.message, /^loading s\.t \(00002\.ndjson\): Invalid Input Error: Perfect hash aggregate/);
  });
});
