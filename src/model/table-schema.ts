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
  /**
   * The column's identity at the source that survives a rename (PostgreSQL's `attnum`); absent
   * when the source has none. Lets the destination tell a rename from a drop plus an add.
   */
  id?: number;
  /**
   * What rows that existed before this column was added read at the source, as staged text
   * (PostgreSQL's missing value of an `ADD COLUMN … DEFAULT <constant>`, MySQL's column default);
   * null or absent: NULL. The destination fills them in when it adds the column to a table with rows.
   */
  backfill?: string | null;
  /**
   * The source cannot tell what rows that existed before this column was added hold (a volatile
   * default rewrote the table): adding it to a table with rows marks that table for re-sync.
   */
  backfillUnknown?: true;
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
