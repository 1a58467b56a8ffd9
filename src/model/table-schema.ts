/**
 * How a staged text value becomes a DuckDB value:
 * - `text`: `CAST(v AS duckType)` (the default; the source emits DuckDB-castable text)
 * - `hex`: `from_hex(v)` (binary data staged as hex digits, no prefix)
 * - `json`: `CAST(CAST(v AS JSON) AS duckType)` (lists staged as JSON arrays)
 */
export type ValueEncoding = 'text' | 'hex' | 'json';

export interface ColumnSchema {
  name: string;
  /** The source's own type name, for messages and docs (e.g. `numeric(12,2)`, `varchar(20)`). */
  sourceType: string;
  /** DuckDB column type (e.g. `DECIMAL(12,2)`, `TIMESTAMPTZ`, `VARCHAR[]`). */
  duckType: string;
  encoding: ValueEncoding;
}

/** A source table's shape at one point in the stream. `table` is `schema.name` (database.name for MySQL). */
export interface TableSchema {
  table: string;
  columns: ColumnSchema[];
  /** Primary key column names, in key order; empty when the table has none. */
  primaryKey: string[];
}

export function splitTableName(table: string): { schema: string; name: string } {
  const dot = table.indexOf('.');
  if (dot <= 0) throw new Error(`table name must be schema.table, got ${JSON.stringify(table)}`);
  return { schema: table.slice(0, dot), name: table.slice(dot + 1) };
}
