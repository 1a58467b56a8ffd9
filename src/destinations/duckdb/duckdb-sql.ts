import type { ColumnSchema } from '../../model/table-schema.js';

/** A DuckDB identifier, always quoted: source names may hold uppercase, spaces or quotes. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A SQL string literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * `"catalog"."schema"."table"`. Always three parts: a file named like a source schema
 * (`shop.duckdb` holding `shop.orders`) makes two-part names ambiguous.
 */
export function tableRef(catalog: string, schema: string, table: string): string {
  return `${quoteIdent(catalog)}.${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/**
 * Converts a staged text expression to the column's DuckDB value, then to the destination
 * column's type when evolution left it different (e.g. widened to VARCHAR).
 */
export function decodeValue(textExpr: string, column: ColumnSchema, sourceType: string, targetType: string): string {
  let expr: string;
  switch (column.encoding) {
    case 'hex':
      expr = `from_hex(${textExpr})`;
      break;
    case 'json':
      expr = `CAST(CAST(${textExpr} AS JSON) AS ${column.duckType})`;
      break;
    default:
      expr = `CAST(${textExpr} AS ${column.duckType})`;
  }
  return sourceType === targetType ? expr : `CAST(${expr} AS ${targetType})`;
}

/** The `__op` value of a spool op code. */
export function opNameExpr(codeExpr: string): string {
  return (
    `CASE ${codeExpr} WHEN 's' THEN 'snapshot' WHEN 'i' THEN 'insert' WHEN 'u' THEN 'update' ` +
    `WHEN 'd' THEN 'delete' WHEN 't' THEN 'truncate' END`
  );
}

/** The staged text of column `index` (0-based) of a spool row `c` list. */
export function stagedValue(index: number, row = ''): string {
  return `${row}c[${index + 1}]`;
}

/** True when the staged row sent column `index` (it is not listed in `u`). */
export function sentExpr(index: number, row = ''): string {
  return `(${row}u IS NULL OR NOT list_contains(${row}u, ${index}))`;
}

/** A value DuckDB returned as JSON, as text: strings as they are, numbers and booleans printed; null stays null. */
export function jsonText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}
