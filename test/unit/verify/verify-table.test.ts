import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TablePlan } from '../../../src/verify/table-plan.js';
import { EMPTY_SIDE } from '../../../src/verify/table-side.js';
import type { DifferingRange } from '../../../src/verify/verify-result.js';
import { applyRecheck, tableResult, type TableWork } from '../../../src/verify/verify-table.js';

const plan = { table: 's.t', keyColumns: ['id'], destinationTable: 's.t', notCompared: [], notes: [] } as unknown as TablePlan;
const range = (from: string | null, to: string | null, resolved = true): DifferingRange => ({
  from: from === null ? null : [from], to: to === null ? null : [to], sourceRows: 10, destinationRows: 10, resolved,
});
const work = (found: TableWork['found'], unresolved: DifferingRange[] = []): TableWork => ({
  plan, source: EMPTY_SIDE, dest: EMPTY_SIDE, sourceRows: 10, destinationRows: 10, found, unresolved, truncated: unresolved.length > 0,
});

describe('a table being verified', () => {
  test('re-check: a key whose copy matches the source read before or after it was read no longer differs', () => {
    const r = range(null, null);
    const w = work([
      { kind: 'changed', key: ['1'], range: r }, // copy lags: it holds what the source had before
      { kind: 'changed', key: ['2'], range: r }, // copy caught up with a change made after the first read
      { kind: 'changed', key: ['3'], range: r }, // wrong: matches neither
      { kind: 'missing', key: ['4'], range: r }, // still missing
      { kind: 'extra', key: ['5'], range: r }, // deleted at the source meanwhile, and the copy followed
    ]);
    const before = [{ key: ['1'], hash: 'a' }, { key: ['2'], hash: 'b' }, { key: ['3'], hash: 'c' }, { key: ['4'], hash: 'd' }, { key: ['5'], hash: 'e' }];
    const dest = [{ key: ['1'], hash: 'a' }, { key: ['2'], hash: 'B' }, { key: ['3'], hash: 'x' }];
    const after = [{ key: ['1'], hash: 'A' }, { key: ['2'], hash: 'B' }, { key: ['3'], hash: 'C' }, { key: ['4'], hash: 'd' }];
    applyRecheck(w, before, dest, after);
    assert.deepEqual(w.found.map((f) => [f.kind, f.key[0]]), [['changed', '3'], ['missing', '4']]);
    assert.ok(w.found.every((f) => f.range === r), 'a key keeps the range it was found in');
  });

  test('the result lists keys in order and each range once (a range narrowed in part as not resolved)', () => {
    const leaf = range('0', '9');
    const again = range('0', '9', false);
    const res = tableResult(work([{ kind: 'missing', key: ['9'], range: leaf }, { kind: 'extra', key: ['10'], range: range('9', null) }, { kind: 'changed', key: ['2'], range: leaf }], [again]));
    assert.deepEqual(res.differences, [{ kind: 'changed', key: ['2'] }, { kind: 'missing', key: ['9'] }, { kind: 'extra', key: ['10'] }]);
    assert.deepEqual(res.ranges.map((r) => [r.from, r.to, r.resolved]), [[['0'], ['9'], false], [['9'], null, true]]);
    assert.equal(res.equal, false);
    assert.equal(res.truncated, true);
  });
});
