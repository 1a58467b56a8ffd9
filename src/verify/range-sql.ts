import type { SideColumn } from './column-class.js';
import { Params, type Dialect } from './dialect.js';
import type { KeyRange } from './verify-result.js';

/** One side's table as the comparison queries see it. */
export interface TableSql {
  dialect: Dialect;
  /** The qualified, quoted table. */
  from: string;
  /** Primary-key columns, in key order. */
  keys: SideColumn[];
  /** Every compared column (keys included), in the same order on both sides. */
  compared: SideColumn[];
  /** Rows that count (DuckDB MERGE: `NOT "__deleted"`), or null for all. */
  live: string | null;
}

/** A statement with its parameters (`Params`). */
export interface Statement {
  sql: string;
  params: string[];
}

/**
 * `key > bound` (or, for an `upper` bound, `key <= bound`) over a composite key, spelled out
 * column by column (`k1 > b1 OR (k1 = b1 AND k2 > b2) …`) rather than as a row-value comparison,
 * and led by `k1 >= b1` so an index on the first column narrows the scan.
 */
function beyond(t: TableSql, bound: string[], p: Params, upper: boolean): string {
  const d = t.dialect;
  const cmp = upper ? '<' : '>';
  const term = (i: number): string => `${d.keyOrder(t.keys[i]!)} ${cmp} ${d.keyBound(t.keys[i]!, p.add(bound[i]!))}`;
  const eq = (i: number): string => `${d.keyOrder(t.keys[i]!)} = ${d.keyBound(t.keys[i]!, p.add(bound[i]!))}`;
  // Placeholders are numbered (MySQL: positioned) in the order they are made: the lead comes first.
  const lead = `${d.keyOrder(t.keys[0]!)} ${cmp}= ${d.keyBound(t.keys[0]!, p.add(bound[0]!))}`;
  const arms: string[] = [];
  for (let i = 0; i < t.keys.length; i++) {
    const equalPrefix = Array.from({ length: i }, (_, j) => eq(j));
    arms.push([...equalPrefix, term(i)].join(' AND '));
  }
  if (upper) arms.push(t.keys.map((_, i) => eq(i)).join(' AND '));
  return `(${lead} AND (${arms.map((a) => `(${a})`).join(' OR ')}))`;
}

/** The WHERE clause of rows in `range` (live ones only, on a side with `live`). */
export function rangeWhere(t: TableSql, range: KeyRange, p: Params): string {
  const parts: string[] = [];
  if (t.live !== null) parts.push(t.live);
  if (range.from !== null) parts.push(beyond(t, range.from, p, false));
  if (range.to !== null) parts.push(beyond(t, range.to, p, true));
  return parts.length === 0 ? '' : `WHERE ${parts.join(' AND ')}`;
}

function hash(t: TableSql): string {
  return t.dialect.rowHash(t.compared.map((c) => t.dialect.canonical(c)));
}

/** Rows and checksum of a range: one row `[count, sum]`. */
export function summarySql(t: TableSql, range: KeyRange): Statement {
  const p = new Params(t.dialect);
  const where = rangeWhere(t, range, p);
  return { sql: `SELECT ${t.dialect.countText()}, ${t.dialect.sumText(hash(t))} FROM ${t.from} ${where}`, params: p.values };
}

/** Live rows in a range: one row `[count]`. */
export function countSql(t: TableSql, range: KeyRange): Statement {
  const p = new Params(t.dialect);
  return { sql: `SELECT ${t.dialect.countText()} FROM ${t.from} ${rangeWhere(t, range, p)}`, params: p.values };
}

/** Every `step`-th key of a range in key order (as key texts): split points for narrowing it. */
export function splitSql(t: TableSql, range: KeyRange, step: number): Statement {
  const d = t.dialect;
  const p = new Params(d);
  const where = rangeWhere(t, range, p);
  const keyCols = t.keys.map((k, i) => `${d.keyText(k)} AS k${i}`).join(', ');
  const order = t.keys.map((k) => d.keyOrder(k)).join(', ');
  const sql =
    `SELECT ${t.keys.map((_, i) => `k${i}`).join(', ')} FROM ` +
    `(SELECT ${keyCols}, ROW_NUMBER() OVER (ORDER BY ${order}) AS rn FROM ${t.from} ${where}) AS s ` +
    `WHERE rn % ${Math.max(1, Math.floor(step))} = 0 ORDER BY rn`;
  return { sql, params: p.values };
}

/** Key texts and row hash of every row of a range: rows `[k0, k1, …, hash]`. */
export function rowsSql(t: TableSql, range: KeyRange): Statement {
  const d = t.dialect;
  const p = new Params(d);
  const where = rangeWhere(t, range, p);
  return { sql: `SELECT ${t.keys.map((k) => d.keyText(k)).join(', ')}, ${d.intText(hash(t))} FROM ${t.from} ${where}`, params: p.values };
}

/** Key texts and row hash of the rows with one of `keys` (live ones, on a side with `live`). */
export function lookupSql(t: TableSql, keys: string[][]): Statement {
  const d = t.dialect;
  const p = new Params(d);
  const match = keys
    .map((key) => `(${t.keys.map((k, i) => `${d.keyOrder(k)} = ${d.keyBound(k, p.add(key[i]!))}`).join(' AND ')})`)
    .join(' OR ');
  const where = [...(t.live === null ? [] : [t.live]), `(${match})`].join(' AND ');
  return { sql: `SELECT ${t.keys.map((k) => d.keyText(k)).join(', ')}, ${d.intText(hash(t))} FROM ${t.from} WHERE ${where}`, params: p.values };
}
