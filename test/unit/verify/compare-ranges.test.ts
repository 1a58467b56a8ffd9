import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareKeys, compareRanges, diffRows, subranges, type CompareOptions } from '../../../src/verify/compare-ranges.js';
import type { RangeSummary, RowHash, TableSide } from '../../../src/verify/table-side.js';
import type { KeyRange } from '../../../src/verify/verify-result.js';

/** An in-memory side: rows keyed by integer ids (key texts are their digits), counting the rows it hands out. */
class MemorySide implements TableSide {
  rowsRead = 0;
  summaries = 0;

  constructor(private readonly data: Map<number, string>) {}

  private inRange(range: KeyRange): [number, string][] {
    const lo = range.from === null ? -Infinity : Number(range.from[0]);
    const hi = range.to === null ? Infinity : Number(range.to[0]);
    return [...this.data].filter(([k]) => k > lo && k <= hi).sort((a, b) => a[0] - b[0]);
  }

  count(range: KeyRange): Promise<number> {
    return Promise.resolve(this.inRange(range).length);
  }

  summarize(ranges: KeyRange[]): Promise<RangeSummary[]> {
    this.summaries += ranges.length;
    return Promise.resolve(
      ranges.map((r) => {
        const rows = this.inRange(r);
        return { rows: rows.length, checksum: rows.map(([k, v]) => `${k}:${v}`).join('|') };
      }),
    );
  }

  splitPoints(range: KeyRange, rows: number, parts: number): Promise<string[][]> {
    const step = Math.ceil(rows / parts);
    return Promise.resolve(this.inRange(range).filter((_, i) => (i + 1) % step === 0).map(([k]) => [String(k)]));
  }

  rows(range: KeyRange): Promise<RowHash[]> {
    const rows = this.inRange(range);
    this.rowsRead += rows.length;
    return Promise.resolve(rows.map(([k, v]) => ({ key: [String(k)], hash: v })));
  }

  lookup(keys: string[][]): Promise<RowHash[]> {
    return Promise.resolve(keys.filter((k) => this.data.has(Number(k[0]))).map((k) => ({ key: k, hash: this.data.get(Number(k[0]))! })));
  }
}

const table = (n: number): Map<number, string> => new Map(Array.from({ length: n }, (_, i) => [i + 1, `v${i + 1}`]));
const OPTIONS: CompareOptions = { leafRows: 50, fanout: 8, maxDifferences: 1000 };
const FULL = [{ from: null, to: null }];
const kinds = (found: { kind: string; key: string[] }[]) => found.map((f) => `${f.kind} ${f.key.join(',')}`).sort();

describe('range comparison by checksums and bisection', () => {
  test('equal tables: one summary per side, no rows transferred', async () => {
    const s = new MemorySide(table(10_000));
    const d = new MemorySide(table(10_000));
    const out = await compareRanges(s, d, FULL, OPTIONS);
    assert.deepEqual(out.found, []);
    assert.deepEqual(out.ranges, []);
    assert.equal(s.rowsRead + d.rowsRead, 0);
    assert.equal(out.sourceRows, 10_000);
    assert.equal(out.destinationRows, 10_000);
  });

  test('a changed, a missing and an extra key are named, reading only small ranges row by row', async () => {
    const src = table(10_000);
    const dst = table(10_000);
    dst.set(1234, 'tampered');
    dst.delete(5000);
    dst.set(20_000, 'extra');
    const s = new MemorySide(src);
    const d = new MemorySide(dst);
    const out = await compareRanges(s, d, FULL, OPTIONS);
    assert.deepEqual(kinds(out.found), ['changed 1234', 'extra 20000', 'missing 5000']);
    assert.ok(s.rowsRead + d.rowsRead <= 6 * OPTIONS.leafRows, `rows read: ${s.rowsRead + d.rowsRead}`);
    assert.ok(out.ranges.every((r) => r.resolved && Math.max(r.sourceRows, r.destinationRows) <= OPTIONS.leafRows));
    for (const f of out.found) assert.ok(out.ranges.includes(f.range), 'each key names the range it was found in');
  });

  test('an empty copy: the source side cuts the ranges, every key is missing', async () => {
    const out = await compareRanges(new MemorySide(table(500)), new MemorySide(new Map()), FULL, OPTIONS);
    assert.equal(out.found.length, 500);
    assert.ok(out.found.every((f) => f.kind === 'missing'));
  });

  test('more differences than maxDifferences: truncated, the rest left as unresolved ranges', async () => {
    const dst = new Map([...table(2000)].map(([k, v]) => [k, `${v}x`]));
    const out = await compareRanges(new MemorySide(table(2000)), new MemorySide(dst), FULL, { ...OPTIONS, maxDifferences: 120 });
    assert.equal(out.truncated, true);
    assert.equal(out.found.length, 120);
    const unresolved = out.ranges.filter((r) => !r.resolved);
    assert.ok(unresolved.length > 0);
    // Every differing key is in a range listed: the found ones plus the unresolved ranges cover all 2000.
    const covered = out.ranges.reduce((n, r) => n + r.sourceRows, 0);
    assert.equal(covered, 2000);
  });

  test('subranges cut a range at its split points, first and last open as the range is', () => {
    assert.deepEqual(subranges({ from: null, to: ['9'] }, [['3'], ['6']]), [
      { from: null, to: ['3'] },
      { from: ['3'], to: ['6'] },
      { from: ['6'], to: ['9'] },
    ]);
  });

  test('diffRows classifies by key and hash; a key DuckDB holds twice is changed', () => {
    const d = diffRows(
      [
        { key: ['1'], hash: 'a' },
        { key: ['2'], hash: 'b' },
        { key: ['3'], hash: 'c' },
      ],
      [
        { key: ['1'], hash: 'a' },
        { key: ['2'], hash: 'B' },
        { key: ['4'], hash: 'd' },
        { key: ['1'], hash: 'a' },
      ],
    );
    assert.deepEqual(kinds(d), ['changed 1', 'changed 2', 'extra 4', 'missing 3']);
  });

  test('compareKeys orders integers by value and other texts by code point, column by column', () => {
    const keys = [['10'], ['9'], ['-2'], ['b'], ['B']];
    assert.deepEqual(keys.sort(compareKeys), [['-2'], ['9'], ['10'], ['B'], ['b']]);
    assert.ok(compareKeys(['eu', '2'], ['eu', '10']) < 0);
  });
});
