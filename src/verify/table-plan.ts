import type { TableMapping } from '../destinations/duckdb/duckdb-tables.js';
import { duckMismatch, isKeyClass, type ColumnClass, type SideColumn } from './column-class.js';
import type { Dialect } from './dialect.js';
import type { TableSql } from './range-sql.js';
import type { SourceTable } from './verify-source.js';

/** The pipeline's DuckDB copy of a table, as `_ducktail.tables` and the catalog describe it. */
export interface DuckTable {
  mapping: TableMapping;
  /** The qualified, quoted table. */
  from: string;
  /** Its columns and their types now (from `duckdb_columns()`). */
  columns: { name: string; type: string }[];
}

/** How one table is compared. */
export interface TablePlan {
  table: string;
  keyColumns: string[];
  source: TableSql;
  /** Null when the pipeline has not created the table in DuckDB: every source row is then missing. */
  dest: TableSql | null;
  destinationTable: string | null;
  notCompared: string[];
  notes: string[];
}

/** Thrown when one table cannot be verified (others still can). */
export class TableNotVerifiable extends Error {}

/**
 * Decides which columns are compared and how each side names them. A column is left out (and
 * listed in `notCompared`) when its type has no canonical form, when DuckDB does not have it
 * (yet), or when DuckDB's column no longer holds values of the source's kind. Primary-key
 * columns must all be compared.
 */
export function planTable(src: SourceTable, sourceDialect: Dialect, duckDialect: Dialect, duck: DuckTable | null): TablePlan {
  if (src.primaryKey.length === 0) {
    throw new TableNotVerifiable(`${src.table} has no primary key: verify compares MERGE copies key by key`);
  }
  if (duck?.mapping.style === 'append') {
    throw new TableNotVerifiable(`${src.table} is written in APPEND style (a table without primary key in DuckDB): verify compares MERGE copies`);
  }
  const notCompared: string[] = [];
  const compared: { source: SideColumn; dest: SideColumn }[] = [];
  const duckTypes = new Map(duck?.columns.map((c) => [c.name, c.type]) ?? []);
  for (const col of src.columns) {
    const label = `${src.table}.${col.name} (${col.type})`;
    const { classified } = col;
    if (classified.cls === null) {
      notCompared.push(`${label}: ${classified.why}`);
      continue;
    }
    const c: ColumnClass = classified.cls;
    const source: SideColumn = { name: col.name, cls: c, type: col.type };
    if (duck === null) {
      compared.push({ source, dest: { ...source } });
      continue;
    }
    const mapped = duck.mapping.columns.find((m) => m.source === col.name && m.live);
    const duckType = mapped === undefined ? undefined : duckTypes.get(mapped.duck);
    if (mapped === undefined || duckType === undefined) {
      notCompared.push(`${label}: not in the DuckDB copy (yet)`);
      continue;
    }
    const mismatch = duckMismatch(c, duckType);
    if (mismatch !== null) {
      notCompared.push(`${label}: ${mismatch}`);
      continue;
    }
    compared.push({ source, dest: { name: mapped.duck, cls: c, type: duckType } });
  }
  const keys = src.primaryKey.map((k) => {
    const found = compared.find((c) => c.source.name === k);
    const col = src.columns.find((c) => c.name === k);
    if (found === undefined || !isKeyClass(found.source.cls)) {
      const why = notCompared.find((n) => n.startsWith(`${src.table}.${k} (`)) ?? `${src.table}.${k} (${col?.type ?? '?'}): verify cannot order keys of this type`;
      throw new TableNotVerifiable(`primary key column ${why}`);
    }
    return found;
  });
  const notes = duck?.mapping.resync == null ? [] : [`DuckDB marks this table for re-sync: ${duck.mapping.resync}`];
  return {
    table: src.table,
    keyColumns: src.primaryKey,
    source: { dialect: sourceDialect, from: src.from, keys: keys.map((k) => k.source), compared: compared.map((c) => c.source), live: null },
    dest:
      duck === null
        ? null
        : { dialect: duckDialect, from: duck.from, keys: keys.map((k) => k.dest), compared: compared.map((c) => c.dest), live: `NOT ${duckDialect.ident('__deleted')}` },
    destinationTable: duck === null ? null : `${duck.mapping.duckSchema}.${duck.mapping.duckTable}`,
    notCompared,
    notes,
  };
}
