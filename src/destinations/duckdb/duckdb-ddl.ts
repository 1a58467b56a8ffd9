import type { ColumnSchema } from '../../model/table-schema.js';
import { decodeValue, quoteIdent, quoteLiteral } from './duckdb-sql.js';

/** A column schema evolution adds to an existing table. */
export interface NewColumn {
  /** `"catalog"."schema"."table"`. */
  ref: string;
  /** The destination column's name. */
  duck: string;
  /** Its type (DuckDB's canonical spelling). */
  type: string;
  /** The source column; rows already in the table read its `backfill`, or NULL. */
  column: ColumnSchema;
}

/**
 * The statements that change a table's columns. A DuckDB file and a DuckLake differ here (see
 * src/destinations/ducklake/ducklake-ddl.ts); the rest of schema evolution is shared.
 */
export interface ColumnDdl {
  addColumn(c: NewColumn): string[];
  /** Changes column `duck` from type `from` to `to`: a widening, or VARCHAR, which holds any value. */
  retype(ref: string, duck: string, from: string, to: string): string[];
}

/** The backfill of a new column as SQL of its type, or null when it has none. */
export function backfillExpr(c: NewColumn): string | null {
  const backfill = c.column.backfill ?? null;
  return backfill === null ? null : decodeValue(quoteLiteral(backfill), c.column, c.type, c.type);
}

export const duckdbColumnDdl: ColumnDdl = {
  addColumn(c) {
    const fill = backfillExpr(c);
    const add = `ALTER TABLE ${c.ref} ADD COLUMN ${quoteIdent(c.duck)} ${c.type}`;
    // A default fills the rows already there; new rows get their values from the loads.
    return fill === null ? [add] : [`${add} DEFAULT ${fill}`, `ALTER TABLE ${c.ref} ALTER COLUMN ${quoteIdent(c.duck)} DROP DEFAULT`];
  },
  retype: (ref, duck, _from, to) => [`ALTER TABLE ${ref} ALTER COLUMN ${quoteIdent(duck)} TYPE ${to}`],
};
