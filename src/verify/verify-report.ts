import type { Difference, TableVerifyResult, VerifyResult } from './verify-result.js';

/** A table's result with at most `sample` differences listed (`truncated` when more differ). */
export interface TableReport extends Omit<TableVerifyResult, 'differences'> {
  differences: Difference[];
  /** Differing keys found (a lower bound when `truncated` comes from `maxDifferences`). */
  differenceCount: number;
}

export interface VerifyReport extends Omit<VerifyResult, 'tables'> {
  tables: TableReport[];
}

/** The result as `ducktail verify --json` prints it: differences cut to `sample` per table. */
export function toReport(result: VerifyResult, sample: number): VerifyReport {
  return {
    ...result,
    tables: result.tables.map((t) => ({
      ...t,
      differences: t.differences.slice(0, sample),
      differenceCount: t.differences.length,
      truncated: t.truncated || t.differences.length > sample,
    })),
  };
}

const count = (n: number): string => n.toLocaleString('en-US');

function showKey(columns: string[], key: string[]): string {
  return key.map((v, i) => `${columns[i] ?? `key${i}`}=${v}`).join(', ');
}

function tableLines(t: TableVerifyResult, sample: number): string[] {
  if (t.error !== null) return [`${t.table}: ERROR: ${t.error}`];
  const where = t.destinationTable === null ? 'not in DuckDB yet' : `${count(t.destinationRows)} live in DuckDB`;
  const head = `${t.table}: ${count(t.sourceRows)} rows in the source, ${where}`;
  const lines: string[] = [];
  if (t.equal) lines.push(`${head}: equal${t.sourceRows === t.destinationRows ? '' : ' (after the re-check: the counts differ by rows in flight)'}`);
  else {
    const unresolved = t.ranges.filter((r) => !r.resolved).length;
    const more = t.truncated ? ` (more in ${unresolved} key range${unresolved === 1 ? '' : 's'}, see --json)` : '';
    lines.push(`${head}: DIFFERS, ${count(t.differences.length)} key${t.differences.length === 1 ? '' : 's'}${more}`);
    for (const d of t.differences.slice(0, sample)) lines.push(`  ${d.kind.padEnd(8)} ${showKey(t.keyColumns, d.key)}`);
    if (t.differences.length > sample) lines.push(`  … and ${count(t.differences.length - sample)} more (--sample N, --json)`);
  }
  for (const n of t.notes) lines.push(`  note: ${n}`);
  for (const n of t.notCompared) lines.push(`  not compared: ${n}`);
  return lines;
}

/** The result for people: per table rows compared and differing keys (never row values). */
export function formatVerify(result: VerifyResult, sample: number): string {
  const lines = [`pipeline ${result.pipeline}: ${result.source} → ${result.destination}`];
  for (const t of result.tables) lines.push(...tableLines(t, sample).map((l) => `  ${l}`));
  const r = result.recheck;
  if (r !== null) {
    const waited = r.waited ? ` (waited ${(r.waitedMs / 1000).toFixed(1)} s)` : '';
    lines.push(`re-check: ${count(r.firstPassDifferences)} key(s) differed in the first pass; ${r.note}${waited}`);
  }
  const errors = result.tables.filter((t) => t.error !== null).length;
  const differing = result.tables.filter((t) => t.error === null && !t.equal).length;
  if (errors > 0) lines.push(`result: ERROR (${errors} table${errors === 1 ? '' : 's'} could not be verified)`);
  else lines.push(differing === 0 ? 'result: equal' : `result: DIFFERS (${differing} table${differing === 1 ? '' : 's'})`);
  return lines.join('\n');
}

/** 0 when every table is equal, 1 when one differs, 2 when one could not be verified. */
export function verifyExitCode(result: VerifyResult): 0 | 1 | 2 {
  if (result.tables.some((t) => t.error !== null)) return 2;
  return result.equal ? 0 : 1;
}
