import { preview } from './canonical.js';
import type { Divergence, Findings } from './report.js';
import type { Row } from './truth.js';

export interface KeyedCompare {
  findings: Findings;
  where: Divergence['where'];
  table: string;
  /** What the two sides are called in messages, e.g. `source` / `DuckDB`. */
  expectedName: string;
  actualName: string;
  /** Columns compared for a pair of rows (values absent from `actual` read as NULL). */
  columns(expected: Row, actual: Row): string[];
}

/** Compares two keyed row sets: rows missing, rows extra, and values that differ. */
export function compareKeyed(c: KeyedCompare, expected: ReadonlyMap<string, Row>, actual: ReadonlyMap<string, Row>): void {
  const { findings: f, where, table } = c;
  for (const [key, exp] of expected) {
    const act = actual.get(key);
    if (act === undefined) {
      f.add(where, table, `row missing in ${c.actualName}`, `key ${key}`);
      continue;
    }
    for (const col of c.columns(exp, act)) {
      const e = exp[col] ?? null;
      const a = act[col] ?? null;
      if (e !== a) {
        f.add(where, table, `value differs`, `key ${key} column ${JSON.stringify(col)}: ${c.expectedName} ${preview(e)} vs ${c.actualName} ${col in act ? preview(a) : '(no such column)'}`);
      }
    }
  }
  for (const key of actual.keys()) {
    if (!expected.has(key)) f.add(where, table, `row in ${c.actualName} that ${c.expectedName} does not have`, `key ${key}`);
  }
}
