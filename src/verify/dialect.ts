import type { SideColumn } from './column-class.js';

/**
 * The SQL one side needs to compare rows without transferring them. Every dialect must give,
 * for the same value of the same `ColumnClass`, the same canonical text, the same key text and
 * the same key order as every other dialect: that is what makes checksums comparable.
 */
export interface Dialect {
  readonly name: 'postgres' | 'mysql' | 'duckdb';
  /** A quoted column name. */
  ident(name: string): string;
  /** The canonical text of a column's value (see `ColumnClass`); NULL stays NULL. */
  canonical(col: SideColumn): string;
  /** A key column's value as text that `keyBound` reads back (see `Difference.key`). */
  keyText(col: SideColumn): string;
  /** An expression that orders a key column the same way on every side. */
  keyOrder(col: SideColumn): string;
  /** A key text given as `param`, made comparable with `keyOrder(col)`. */
  keyBound(col: SideColumn, param: string): string;
  /**
   * The row's 60-bit hash: md5 of the canonical texts, each as `<UTF-8 byte length>:<text>` or
   * `N` for NULL, concatenated; its first 15 hex digits as an integer.
   */
  rowHash(canonicals: string[]): string;
  /** `count(*)` and the sum of `hash` (0 when no rows) as text. */
  countText(): string;
  sumText(hash: string): string;
  /** An integer expression as text. */
  intText(expr: string): string;
  /** The placeholder of parameter number `n` (1-based) holding `value`; DuckDB inlines the literal. */
  placeholder(n: number, value: string): string;
}

/** Collects a statement's parameters in order, handing out each one's placeholder. */
export class Params {
  readonly values: string[] = [];

  constructor(private readonly dialect: Dialect) {}

  add(value: string): string {
    this.values.push(value);
    return this.dialect.placeholder(this.values.length, value);
  }
}

/** The functions the float decomposition needs, per dialect. */
export interface FloatFunctions {
  /** The value as a double. */
  double(x: string): string;
  /** floor(log2(a)) as a double, possibly off by one (corrected after). */
  log2Floor(a: string): string;
  pow2(e: string): string;
  /** An integral double as integer text. */
  intText(x: string): string;
  concat(parts: string[]): string;
  /** Extra `WHEN … THEN …` arms for NaN and infinities, before the general case. */
  special(x: string): string;
}

/**
 * The exact value of a float as `[-]<mantissa>p<exponent>` with a 53-bit integer mantissa:
 * `x = mantissa · 2^(exponent − 52)`. Scaling by powers of two is exact in binary floating point,
 * so every dialect computes the same integers (floor(log2) may be off by one near powers of two
 * and is corrected). Zero (either sign) is `0`.
 */
export function floatCanonical(col: string, f: FloatFunctions): string {
  const x = f.double(col);
  const a = `abs(${x})`;
  const e0 = f.log2Floor(a);
  const scaled0 = `(${a} / ${f.pow2(e0)})`;
  const e = `(${e0} + CASE WHEN ${scaled0} >= 2 THEN 1 WHEN ${scaled0} < 1 THEN -1 ELSE 0 END)`;
  const mantissa = `(${a} / ${f.pow2(e)} * ${f.pow2('52')})`;
  const general = f.concat([`CASE WHEN ${x} < 0 THEN '-' ELSE '' END`, f.intText(mantissa), "'p'", f.intText(e)]);
  return `CASE WHEN ${x} IS NULL THEN NULL WHEN ${x} = 0 THEN '0' ${f.special(x)} ELSE ${general} END`;
}
