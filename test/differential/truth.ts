import { canonical } from './canonical.js';
import type { ValueClass } from './column-types.js';
import type { SourceTable } from './driver.js';

/** A row as canonical text by column name. */
export type Row = Record<string, string | null>;

/**
 * A table's truth: its rows keyed by primary key, every value canonical (see canonical.ts).
 * Built from the source itself (final state, or the state at the snapshot point).
 */
export interface TruthTable {
  name: string;
  keyColumns: string[];
  columns: string[];
  classes: ReadonlyMap<string, ValueClass>;
  rows: Map<string, Row>;
}

export function classOf(classes: ReadonlyMap<string, ValueClass>, column: string): ValueClass {
  return classes.get(column) ?? 'text';
}

/** Canonical key text of a row (the key columns' canonical values as a JSON array). */
export function keyOf(row: Readonly<Record<string, string | null | undefined>>, keyColumns: readonly string[]): string {
  return JSON.stringify(keyColumns.map((k) => row[k] ?? null));
}

/** Canonicalises a raw image (source text by column name). */
export function canonicalRow(raw: Readonly<Record<string, string | null>>, classes: ReadonlyMap<string, ValueClass>): Row {
  const row: Row = {};
  for (const [c, v] of Object.entries(raw)) row[c] = canonical(classOf(classes, c), v);
  return row;
}

export function truthTable(name: string, source: SourceTable, keyColumns: string[], classes: ReadonlyMap<string, ValueClass>): TruthTable {
  const rows = new Map<string, Row>();
  for (const values of source.rows) {
    const raw: Record<string, string | null> = {};
    source.columns.forEach((c, i) => (raw[c] = values[i] ?? null));
    const row = canonicalRow(raw, classes);
    rows.set(keyOf(row, keyColumns), row);
  }
  return { name, keyColumns, columns: source.columns, classes, rows };
}
