/**
 * What a column holds, for comparison: every dialect turns a value of a class into the same
 * canonical text (see `Dialect.canonical`), so a source row and its DuckDB copy hash alike.
 *
 * - `int`: decimal digits. `decimal`: digits with exactly `scale` fractional digits.
 * - `float`: exact binary value, `<sign><53-bit mantissa>p<exponent>` (`0`, `nan`, `inf`, `-inf`).
 * - `bool`: `true` / `false`. `text`, `json`, `uuid`, `set`: the text as stored (a SET as its
 *   comma list). `char`: text without trailing blanks (blank-padded CHAR(n)).
 * - `bytes`: lower-case hex. `date`: days since 1970-01-01. `timestamp`, `timestamptz`:
 *   microseconds since 1970-01-01 00:00 (UTC for `timestamptz`). `time`: microseconds (a time of
 *   day, or MySQL's signed TIME duration). Infinite dates and times: `inf` / `-inf`.
 */
export type ColumnClass =
  | { kind: 'int' }
  | { kind: 'decimal'; scale: number }
  | { kind: 'float' }
  | { kind: 'bool' }
  | { kind: 'text' }
  | { kind: 'char' }
  | { kind: 'json' }
  | { kind: 'uuid' }
  | { kind: 'bytes' }
  | { kind: 'date' }
  | { kind: 'timestamp' }
  | { kind: 'timestamptz' }
  | { kind: 'time' }
  | { kind: 'set' };

export type ClassKind = ColumnClass['kind'];

/** A column a class was found for, or the reason none was. */
export type Classified = { cls: ColumnClass } | { cls: null; why: string };

export const cls = (kind: Exclude<ClassKind, 'decimal'>): Classified => ({ cls: { kind } as ColumnClass });
export const notCompared = (why: string): Classified => ({ cls: null, why });

/** Classes a primary key may have: every side orders and prints them alike (see `Dialect.keyOrder`). */
const KEY_KINDS = new Set<ClassKind>(['int', 'decimal', 'text', 'char', 'uuid', 'bytes', 'date', 'timestamp', 'timestamptz']);

export function isKeyClass(c: ColumnClass): boolean {
  return KEY_KINDS.has(c.kind);
}

/** One column as one side names and types it. */
export interface SideColumn {
  /** The column's name on this side. */
  name: string;
  cls: ColumnClass;
  /**
   * This side's type: PostgreSQL `format_type` (`integer`, `numeric(12,2)`), MySQL's canonical
   * type (`int unsigned`, `bit(10)`, `year`), DuckDB's type (`INTEGER`, `TIMESTAMP WITH TIME ZONE`).
   */
  type: string;
}

const DUCK_INTS = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT']);

/** DuckDB's `DECIMAL(p,s)` scale, or null for another type. */
export function duckDecimalScale(type: string): number | null {
  const m = /^DECIMAL\((\d+),\s*(\d+)\)$/i.exec(type);
  return m === null ? null : Number(m[2]);
}

/**
 * Whether a DuckDB column of `duckType` can be canonicalised as `c` (the source column's class):
 * the column the pipeline created for it, or one schema evolution widened without changing what
 * the values mean. Null when it can; otherwise why not (e.g. a type change made it VARCHAR).
 */
export function duckMismatch(c: ColumnClass, duckType: string): string | null {
  const t = duckType.toUpperCase();
  const ok = ((): boolean => {
    switch (c.kind) {
      case 'int':
        return DUCK_INTS.has(t) || duckDecimalScale(t) === 0;
      case 'decimal': {
        const scale = duckDecimalScale(t);
        return (scale !== null && scale >= c.scale) || (c.scale === 0 && DUCK_INTS.has(t));
      }
      case 'float':
        return t === 'FLOAT' || t === 'REAL' || t === 'DOUBLE';
      case 'bool':
        return t === 'BOOLEAN';
      case 'text':
      case 'json':
        return t === 'VARCHAR' || t === 'JSON';
      case 'char':
        return t === 'VARCHAR';
      case 'uuid':
        return t === 'UUID' || t === 'VARCHAR';
      case 'bytes':
        return t === 'BLOB';
      case 'date':
        return t === 'DATE';
      case 'timestamp':
        return t === 'TIMESTAMP';
      case 'timestamptz':
        return t === 'TIMESTAMP WITH TIME ZONE' || t === 'TIMESTAMPTZ';
      case 'time':
        return t === 'TIME' || t === 'INTERVAL';
      case 'set':
        return t === 'VARCHAR[]';
    }
  })();
  return ok ? null : `the DuckDB column is ${duckType}`;
}
