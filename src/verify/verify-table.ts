import { jsonText } from '../destinations/duckdb/duckdb-sql.js';
import { compareKeys, compareRanges, diffRows, keyId, type CompareOptions, type FoundKey } from './compare-ranges.js';
import type { CopyReader, PinnedCopy } from './copy-reader.js';
import type { TablePlan } from './table-plan.js';
import { EMPTY_SIDE, SqlTableSide, type Exec, type RowHash, type TableSide } from './table-side.js';
import type { DifferingRange, KeyRange, TableVerifyResult } from './verify-result.js';

/** One table being verified: its plan, both sides, and what differs so far. */
export interface TableWork {
  plan: TablePlan;
  source: TableSide;
  dest: TableSide;
  sourceRows: number;
  destinationRows: number;
  found: FoundKey[];
  /** Differing ranges not narrowed to keys (too many differences). */
  unresolved: DifferingRange[];
  truncated: boolean;
}

const FULL: KeyRange = { from: null, to: null };

/** Runs a statement on the copy, a DuckDB file or lake (values inlined: DuckDB statements carry no parameters). */
export function duckExec(reader: CopyReader): Exec {
  return async ({ sql }) => (await reader.rows(sql)).map((r) => r.map(jsonText));
}

function pinnedExec(copy: PinnedCopy): Exec {
  return async ({ sql }) => (await copy.rows(sql)).map((r) => r.map(jsonText));
}

/**
 * The table's first pass: the DuckDB copy's live rows cut into ranges of about `chunkRows` (split
 * points from DuckDB, which is local), each compared by checksums and narrowed where it differs.
 */
export async function firstPass(plan: TablePlan, sourceExec: Exec, destExec: Exec, chunkRows: number, options: CompareOptions): Promise<TableWork> {
  const source = new SqlTableSide(plan.source, sourceExec);
  const dest = plan.dest === null ? EMPTY_SIDE : new SqlTableSide(plan.dest, destExec);
  const rows = await dest.count(FULL);
  const points = rows > chunkRows ? await dest.splitPoints(FULL, rows, Math.ceil(rows / chunkRows)) : [];
  const bounds = [null, ...points, null];
  const ranges = bounds.slice(1).map((to, i) => ({ from: bounds[i]!, to }));
  const outcome = await compareRanges(source, dest, ranges, options);
  return {
    plan,
    source,
    dest,
    sourceRows: outcome.sourceRows,
    destinationRows: outcome.destinationRows,
    found: outcome.found,
    unresolved: outcome.ranges.filter((r) => !r.resolved),
    truncated: outcome.truncated,
  };
}

/** True while something of the table still differs. */
export function differs(work: TableWork): boolean {
  return work.found.length > 0 || work.unresolved.length > 0;
}

/** The keys found differing so far. */
export function differingKeys(work: TableWork): string[][] {
  return work.found.map((f) => f.key);
}

/** The differing keys' rows in the copy, read in `copy` (one state of it). */
export function destRows(work: TableWork, copy: PinnedCopy): Promise<RowHash[]> {
  if (work.plan.dest === null || work.found.length === 0) return Promise.resolve([]);
  return new SqlTableSide(work.plan.dest, pinnedExec(copy)).lookup(differingKeys(work));
}

/**
 * Keeps the keys whose copy in DuckDB matches neither the source row read just before (`before`)
 * nor just after (`after`) it was read. A row the source changed meanwhile matches one of them
 * when the copy is right (it lags or it does not); a wrong copy matches neither. A key's kind
 * follows the later read.
 */
export function applyRecheck(work: TableWork, before: RowHash[], dest: RowHash[], after: RowHash[]): void {
  const rangeOf = new Map(work.found.map((f) => [keyId(f.key), f.range]));
  const differedBefore = new Set(diffRows(before, dest).map((d) => keyId(d.key)));
  work.found = diffRows(after, dest)
    .filter((diff) => differedBefore.has(keyId(diff.key)))
    .map((diff) => ({ ...diff, range: rangeOf.get(keyId(diff.key))! }));
}

/** Narrows the ranges not narrowed to keys again (after the first pass stopped at `maxDifferences`). */
export async function recheckRanges(work: TableWork, options: CompareOptions): Promise<void> {
  if (work.unresolved.length === 0) return;
  const again = await compareRanges(work.source, work.dest, work.unresolved, { ...options, maxDifferences: Math.max(0, options.maxDifferences - work.found.length) });
  work.found.push(...again.found);
  work.unresolved = again.ranges.filter((r) => !r.resolved);
  work.truncated = again.truncated;
}

/** The table's result, keys in order, ranges those still holding a difference. */
export function tableResult(work: TableWork): TableVerifyResult {
  const found = [...work.found].sort((a, b) => compareKeys(a.key, b.key));
  // A range narrowed only in part is listed once, as not resolved.
  const ranges = new Map<string, DifferingRange>();
  for (const r of [...work.unresolved, ...found.map((f) => f.range)]) {
    const id = JSON.stringify([r.from, r.to]);
    if (!ranges.has(id)) ranges.set(id, r);
  }
  return {
    table: work.plan.table,
    destinationTable: work.plan.destinationTable,
    keyColumns: work.plan.keyColumns,
    sourceRows: work.sourceRows,
    destinationRows: work.destinationRows,
    equal: !differs(work),
    differences: found.map(({ kind, key }) => ({ kind, key })),
    truncated: work.truncated,
    ranges: [...ranges.values()],
    notCompared: work.plan.notCompared,
    notes: work.plan.notes,
    error: null,
  };
}

/** The result of a table that could not be verified. */
export function tableError(table: string, error: string): TableVerifyResult {
  return {
    table,
    destinationTable: null,
    keyColumns: [],
    sourceRows: 0,
    destinationRows: 0,
    equal: false,
    differences: [],
    truncated: false,
    ranges: [],
    notCompared: [],
    notes: [],
    error,
  };
}
