import { backfillExpr, type ColumnDdl, type NewColumn } from '../duckdb/duckdb-ddl.js';
import { quoteIdent, quoteLiteral } from '../duckdb/duckdb-sql.js';
import { widens } from '../duckdb/duckdb-types.js';

/** Holds a column's values while it is rewritten under another type. */
const RETYPE_COLUMN = '__ducktail_retype';

/**
 * Column changes in a DuckLake, which differs from a DuckDB file in two ways (checked against
 * DuckLake 1.5.5):
 * - `ADD COLUMN … DEFAULT` takes only a literal (it becomes the value rows already written read,
 *   with no data file rewritten), and no default at all for LIST, STRUCT or MAP columns;
 * - `ALTER COLUMN … TYPE` only promotes types in place (every widening Ducktail makes: integers,
 *   FLOAT to DOUBLE, wider DECIMAL, DATE to TIMESTAMP, lists of those), never to VARCHAR.
 * The other cases rewrite the column's values: an UPDATE, which a DuckLake transaction may
 * follow with DDL of the same table (a DuckDB file may not).
 */
export const ducklakeColumnDdl: ColumnDdl = {
  addColumn(c) {
    const add = `ALTER TABLE ${c.ref} ADD COLUMN ${quoteIdent(c.duck)} ${c.type}`;
    const fill = backfillExpr(c);
    if (fill === null) return [add];
    const literal = backfillLiteral(c);
    if (literal === null) return [add, `UPDATE ${c.ref} SET ${quoteIdent(c.duck)} = ${fill}`];
    return [`${add} DEFAULT ${literal}`, `ALTER TABLE ${c.ref} ALTER COLUMN ${quoteIdent(c.duck)} DROP DEFAULT`];
  },
  retype(ref, duck, from, to) {
    if (to !== 'VARCHAR' && widens(from, to)) return [`ALTER TABLE ${ref} ALTER COLUMN ${quoteIdent(duck)} TYPE ${to}`];
    const temp = quoteIdent(RETYPE_COLUMN);
    return [
      `ALTER TABLE ${ref} ADD COLUMN ${temp} ${to}`,
      `UPDATE ${ref} SET ${temp} = CAST(${quoteIdent(duck)} AS ${to})`,
      `ALTER TABLE ${ref} DROP COLUMN ${quoteIdent(duck)}`,
      `ALTER TABLE ${ref} RENAME COLUMN ${temp} TO ${quoteIdent(duck)}`,
    ];
  },
};

/**
 * The backfill as a string literal DuckLake casts to the column's type exactly as the load casts
 * staged text (`CAST(text AS type)`), or null when only an expression can say it (nested types,
 * JSON text of a non-JSON column).
 */
function backfillLiteral(c: NewColumn): string | null {
  const text = c.column.backfill ?? null;
  if (text === null || /[[\]]|^(STRUCT|MAP|UNION)\b/i.test(c.type)) return null;
  switch (c.column.encoding) {
    case 'hex':
      // BLOB text: every byte as \xNN.
      return c.type === 'BLOB' && /^([0-9a-f]{2})*$/i.test(text) ? quoteLiteral(text.replace(/../g, (b) => `\\x${b.toUpperCase()}`)) : null;
    case 'json':
      return c.type === 'JSON' ? quoteLiteral(text) : null;
    default:
      return quoteLiteral(text);
  }
}
