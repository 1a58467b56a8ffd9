import type { ColumnSchema, TableSchema, ValueEncoding } from '../../model/table-schema.js';

/**
 * MySQL/MariaDB column types → DuckDB types. Both column sources (information_schema for the
 * snapshot, the binlog TableMap for streaming, which zongji presents in information_schema
 * shape) go through `parseColumnType`, so one column maps to one `ColumnSchema` either way.
 *
 * Choices (lossless text castable by DuckDB, see mysql-values.ts):
 * - TINYINT/SMALLINT → SMALLINT, MEDIUMINT/INT → INTEGER, BIGINT → BIGINT; UNSIGNED → U*.
 *   TINYINT(1)/BOOL stays numeric: the binlog does not carry display widths, so it could not be
 *   told apart from TINYINT while streaming, and a value like 2 must survive.
 * - DECIMAL(p,s) → DECIMAL(p,s) for p ≤ 38, else VARCHAR (exact digits).
 * - TIME → INTERVAL: MySQL TIME is a signed duration up to ±838:59:59, which DuckDB TIME cannot hold.
 * - DATETIME → TIMESTAMP, TIMESTAMP → TIMESTAMPTZ (UTC), zero dates → NULL.
 * - ENUM → VARCHAR label; SET → VARCHAR[] staged as a JSON array; BIT(n) → UBIGINT (n ≤ 64).
 * - MariaDB JSON (LONGTEXT + json_valid CHECK) → JSON when the check is visible in
 *   information_schema, else VARCHAR. MariaDB UUID → UUID; INET4/INET6 → VARCHAR (server text).
 * - GEOMETRY family → VARCHAR holding the decoded shape as JSON (points `{x,y}`, nested arrays);
 *   Z/M and SRID are not kept. Unknown types → VARCHAR, never a crash.
 */

/** How a column's values are converted to staged text (see mysql-values.ts). */
export type ValueKind =
  | 'int' | 'float' | 'double' | 'decimal' | 'text' | 'binary' | 'date' | 'datetime' | 'timestamp'
  | 'time' | 'year' | 'json' | 'enum' | 'set' | 'bit' | 'uuid' | 'inet4' | 'inet6' | 'geometry' | 'other';

/** A column normalised from information_schema or the binlog. */
export interface MysqlColumn {
  name: string;
  /** Canonical type, e.g. `int unsigned`, `decimal(38,10)`, `varchar(20)`, `datetime(6)`, `uuid`. */
  type: string;
  /** The canonical type the binlog reports for this column (MariaDB UUID is `binary(16)` there). */
  wireType: string;
  /** From information_schema only: what rows older than the column read (see mysql-defaults.ts). */
  backfill?: string | null;
  backfillUnknown?: true;
}

/** A table's `TableSchema` plus the conversion kind of each column. */
export interface MappedTable {
  schema: TableSchema;
  kinds: ValueKind[];
}

const INTS: Record<string, [string, string]> = {
  tinyint: ['SMALLINT', 'USMALLINT'],
  smallint: ['SMALLINT', 'USMALLINT'],
  mediumint: ['INTEGER', 'UINTEGER'],
  int: ['INTEGER', 'UINTEGER'],
  integer: ['INTEGER', 'UINTEGER'],
  bigint: ['BIGINT', 'UBIGINT'],
};
const TEXTS = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext']);
const BLOBS = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'vector']);
const GEOMETRIES = new Set([
  'geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon',
  'geometrycollection', 'geomcollection',
]);
const MARIADB_WIRE: Record<string, string> = { uuid: 'binary(16)', inet6: 'binary(16)', inet4: 'binary(4)' };

/**
 * Normalises an information_schema `COLUMN_TYPE` (`int(11) unsigned`, `decimal(10,2)`,
 * `enum('a','b')`). `unsigned` overrides the text when the binlog states signedness; `jsonCheck`
 * marks a MariaDB LONGTEXT guarded by `json_valid()`.
 */
export function parseColumnType(name: string, columnType: string, unsigned?: boolean, jsonCheck = false): MysqlColumn {
  const text = columnType.replace(/\/\*.*?\*\//g, '').trim();
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const base = (open < 0 ? text.split(/\s/)[0]! : text.slice(0, open)).trim().toLowerCase();
  const args = open < 0 || close < open ? '' : text.slice(open + 1, close);
  const rest = (close < 0 ? text.slice(base.length) : text.slice(close + 1)).toLowerCase();
  const isUnsigned = unsigned ?? /\bunsigned\b/.test(rest);
  const type = canonicalType(base, args, isUnsigned, jsonCheck);
  const wire = MARIADB_WIRE[type] ?? (jsonCheck && TEXTS.has(base) ? canonicalType(base, args, false, false) : type);
  return { name, type, wireType: wire };
}

function canonicalType(base: string, args: string, unsigned: boolean, json: boolean): string {
  if (base in INTS) return `${base === 'integer' ? 'int' : base}${unsigned ? ' unsigned' : ''}`;
  if (base === 'bool' || base === 'boolean') return 'tinyint';
  if (['decimal', 'numeric', 'dec', 'fixed'].includes(base)) {
    const [p = '10', s = '0'] = args.split(',').map((x) => x.trim());
    return `decimal(${p},${s})`;
  }
  if (base === 'float') return 'float';
  if (base === 'double' || base === 'real' || base.startsWith('double ')) return 'double';
  if (TEXTS.has(base)) return json ? 'json' : base === 'char' || base === 'varchar' ? `${base}(${args})` : base;
  if (base === 'binary' || base === 'varbinary' || base === 'bit' || base === 'vector') return `${base}(${args})`;
  if (base === 'datetime' || base === 'timestamp' || base === 'time') return args === '' || args === '0' ? base : `${base}(${args})`;
  if (base === 'enum' || base === 'set') return `${base}(${args})`;
  if (base === 'year') return 'year';
  if (base === 'geomcollection') return 'geometrycollection';
  return base;
}

/** The DuckDB column and conversion kind for one normalised column. */
export function mapColumn(col: MysqlColumn): { column: ColumnSchema; kind: ValueKind } {
  const [duckType, kind, encoding] = duckTypeOf(col.type);
  const column: ColumnSchema = { name: col.name, sourceType: col.type, duckType, encoding };
  if (col.backfill !== undefined) column.backfill = col.backfill;
  if (col.backfillUnknown === true) column.backfillUnknown = true;
  return { column, kind };
}

function duckTypeOf(type: string): [string, ValueKind, ValueEncoding] {
  const base = /^[a-z0-9_]+/.exec(type)?.[0] ?? type;
  const ints = INTS[base];
  if (ints !== undefined) return [type.endsWith(' unsigned') ? ints[1] : ints[0], 'int', 'text'];
  if (base === 'decimal') {
    const [p, s] = type.slice(8, -1).split(',').map(Number) as [number, number];
    return [p <= 38 ? `DECIMAL(${p},${s})` : 'VARCHAR', 'decimal', 'text'];
  }
  if (base === 'float') return ['REAL', 'float', 'text'];
  if (base === 'double') return ['DOUBLE', 'double', 'text'];
  if (base === 'json') return ['JSON', 'json', 'text'];
  if (TEXTS.has(base)) return ['VARCHAR', 'text', 'text'];
  if (BLOBS.has(base)) return ['BLOB', 'binary', 'hex'];
  if (base === 'date') return ['DATE', 'date', 'text'];
  if (base === 'datetime') return ['TIMESTAMP', 'datetime', 'text'];
  if (base === 'timestamp') return ['TIMESTAMPTZ', 'timestamp', 'text'];
  if (base === 'time') return ['INTERVAL', 'time', 'text'];
  if (base === 'year') return ['SMALLINT', 'year', 'text'];
  if (base === 'enum') return ['VARCHAR', 'enum', 'text'];
  if (base === 'set') return ['VARCHAR[]', 'set', 'json'];
  if (base === 'bit') return ['UBIGINT', 'bit', 'text'];
  if (base === 'uuid') return ['UUID', 'uuid', 'text'];
  if (base === 'inet4') return ['VARCHAR', 'inet4', 'text'];
  if (base === 'inet6') return ['VARCHAR', 'inet6', 'text'];
  if (GEOMETRIES.has(base)) return ['VARCHAR', 'geometry', 'text'];
  return ['VARCHAR', 'other', 'text'];
}

/**
 * Prefers the current information_schema definition of a column when the binlog's type is what
 * that definition would be written as (MariaDB UUID/INET/JSON are invisible in the binlog).
 * A column altered since the event was written keeps its binlog type.
 */
export function refineColumn(fromBinlog: MysqlColumn, current: MysqlColumn | undefined): MysqlColumn {
  return current !== undefined && current.wireType === fromBinlog.wireType ? { ...current, name: fromBinlog.name } : fromBinlog;
}

/** Maps a table's columns (in table order) and primary key. */
export function mapTable(table: string, columns: MysqlColumn[], primaryKey: string[]): MappedTable {
  const mapped = columns.map(mapColumn);
  return { schema: { table, columns: mapped.map((m) => m.column), primaryKey }, kinds: mapped.map((m) => m.kind) };
}
