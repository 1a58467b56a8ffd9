/**
 * The column types the workload uses: a set whose text forms compare exactly on the source, in
 * the audit log and in DuckDB (see canonical.ts). Each has a PostgreSQL and a MariaDB spelling.
 */

export type Dialect = 'pg' | 'mysql';

export type ColumnType =
  | { base: 'int' }
  | { base: 'bigint' }
  | { base: 'numeric'; p: number; s: number }
  | { base: 'varchar'; n: number }
  | { base: 'text' }
  | { base: 'bool' }
  | { base: 'ts' }
  | { base: 'date' }
  | { base: 'json' }
  | { base: 'bytes' };

/** How a value is normalised for comparison; widening never changes a column's class. */
export type ValueClass = 'int' | 'decimal' | 'text' | 'bool' | 'ts' | 'date' | 'json' | 'bytes';

export function valueClass(t: ColumnType): ValueClass {
  switch (t.base) {
    case 'int':
    case 'bigint':
      return 'int';
    case 'numeric':
      return 'decimal';
    case 'varchar':
    case 'text':
      return 'text';
    default:
      return t.base;
  }
}

/** The column type as the dialect writes it in DDL. */
export function typeSql(t: ColumnType, dialect: Dialect): string {
  const pg = dialect === 'pg';
  switch (t.base) {
    case 'int':
      return pg ? 'integer' : 'int';
    case 'bigint':
      return 'bigint';
    case 'numeric':
      return `${pg ? 'numeric' : 'decimal'}(${t.p},${t.s})`;
    case 'varchar':
      return `varchar(${t.n})`;
    case 'text':
      return pg ? 'text' : 'mediumtext';
    case 'bool':
      return 'boolean';
    case 'ts':
      return pg ? 'timestamptz' : 'datetime(6)';
    case 'date':
      return 'date';
    case 'json':
      return pg ? 'jsonb' : 'json';
    case 'bytes':
      return pg ? 'bytea' : 'varbinary(64)';
  }
}

/** Types a generated column may have (keys excluded). */
export const VALUE_TYPES: readonly ColumnType[] = [
  { base: 'int' },
  { base: 'bigint' },
  { base: 'numeric', p: 12, s: 2 },
  { base: 'varchar', n: 40 },
  { base: 'text' },
  { base: 'bool' },
  { base: 'ts' },
  { base: 'date' },
  { base: 'json' },
  { base: 'bytes' },
];

/** Types an `ADD COLUMN … DEFAULT <constant>` uses (constants that both sources accept). */
export const DEFAULTABLE_TYPES: readonly ColumnType[] = [
  { base: 'int' },
  { base: 'bigint' },
  { base: 'numeric', p: 12, s: 2 },
  { base: 'varchar', n: 40 },
  { base: 'bool' },
  { base: 'date' },
];

/**
 * The wider types a column can be changed to without losing a value: int → bigint,
 * varchar(n) → varchar(m > n) or text (not for keys), numeric(p,s) → numeric(p+k,s). Empty when none.
 */
export function widenings(t: ColumnType, key = false): ColumnType[] {
  switch (t.base) {
    case 'int':
      return [{ base: 'bigint' }];
    case 'varchar':
      // A key stays varchar and within InnoDB's 3072-byte index limit (utf8mb4: 4 bytes a character).
      if (key) return t.n < 700 ? [{ base: 'varchar', n: Math.min(t.n * 4, 700) }] : [];
      return t.n * 4 <= 1000 ? [{ base: 'varchar', n: t.n * 4 }, { base: 'text' }] : [{ base: 'text' }];
    case 'numeric':
      return t.p < 30 ? [{ base: 'numeric', p: t.p + 6, s: t.s }] : [];
    default:
      return [];
  }
}

export function describeType(t: ColumnType): string {
  switch (t.base) {
    case 'numeric':
      return `numeric(${t.p},${t.s})`;
    case 'varchar':
      return `varchar(${t.n})`;
    default:
      return t.base;
  }
}
