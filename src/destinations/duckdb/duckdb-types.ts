/**
 * Type evolution rules over DuckDB's canonical type names (as `typeof()` and `duckdb_columns()`
 * print them: `INTEGER`, `DECIMAL(18,2)`, `FLOAT`, `TIMESTAMP WITH TIME ZONE`, `INTEGER[]`).
 */

const SIGNED = ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT'];
const UNSIGNED = ['UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT'];
/** Decimal digits needed to hold every value of an integer type. */
const DIGITS: Record<string, number> = {
  TINYINT: 3, SMALLINT: 5, INTEGER: 10, BIGINT: 19, HUGEINT: 39,
  UTINYINT: 3, USMALLINT: 5, UINTEGER: 10, UBIGINT: 20, UHUGEINT: 39,
};

/** What to do with an existing column whose source type changed. */
export type TypeChange = { action: 'keep' } | { action: 'alter'; to: string };

/**
 * Decides how a column of type `current` follows a source type change to `next`: widen it when
 * every stored value converts exactly; keep it when the new values fit the current type (a
 * narrowing, or anything into VARCHAR); otherwise fall back to VARCHAR, which holds both.
 */
export function decideTypeChange(current: string, next: string): TypeChange {
  if (current === next || widens(next, current)) return { action: 'keep' };
  if (widens(current, next)) return { action: 'alter', to: next };
  return { action: 'alter', to: 'VARCHAR' };
}

/** True when every value of type `from` converts to type `to` without loss. */
export function widens(from: string, to: string): boolean {
  if (from === to || to === 'VARCHAR') return true;
  if (from.endsWith('[]') && to.endsWith('[]')) return widens(from.slice(0, -2), to.slice(0, -2));
  const fromDigits = DIGITS[from];
  if (fromDigits !== undefined) return integerWidens(from, to, fromDigits);
  const fromDecimal = parseDecimal(from);
  const toDecimal = parseDecimal(to);
  if (fromDecimal !== null && toDecimal !== null) {
    return toDecimal.scale >= fromDecimal.scale && toDecimal.precision - toDecimal.scale >= fromDecimal.precision - fromDecimal.scale;
  }
  return (from === 'FLOAT' && to === 'DOUBLE') || (from === 'DATE' && to === 'TIMESTAMP');
}

function integerWidens(from: string, to: string, fromDigits: number): boolean {
  const signedFrom = SIGNED.indexOf(from);
  const unsignedFrom = UNSIGNED.indexOf(from);
  const signedTo = SIGNED.indexOf(to);
  const unsignedTo = UNSIGNED.indexOf(to);
  if (signedFrom >= 0 && signedTo >= 0) return signedTo >= signedFrom;
  if (unsignedFrom >= 0 && unsignedTo >= 0) return unsignedTo >= unsignedFrom;
  if (unsignedFrom >= 0 && signedTo >= 0) return signedTo > unsignedFrom;
  const decimal = parseDecimal(to);
  if (decimal !== null) return decimal.precision - decimal.scale >= fromDigits;
  // A DOUBLE holds integers exactly up to 2^53 (15 full digits), a FLOAT up to 2^24 (7).
  if (to === 'DOUBLE') return fromDigits <= 10;
  if (to === 'FLOAT') return fromDigits <= 5;
  return false;
}

function parseDecimal(type: string): { precision: number; scale: number } | null {
  const m = /^DECIMAL\((\d+),(\d+)\)$/.exec(type);
  return m === null ? null : { precision: Number(m[1]), scale: Number(m[2]) };
}
