import { BadValueError } from '../../errors.js';
import type { ColumnSchema, ValueEncoding } from '../../model/table-schema.js';
import { pgArrayToJson } from './postgres-array.js';

/** What the catalog says about a type (`pg_type`), with array elements and domain bases resolved. */
export interface PgTypeInfo {
  oid: number;
  /** `pg_type.typname`, e.g. `int4`, `_int4`, `my_enum`. */
  name: string;
  /** `pg_type.typtype`: b base, e enum, d domain, c composite, r range, m multirange, p pseudo. */
  typtype: string;
  /** `pg_type.typcategory`: `A` for arrays. */
  category: string;
  elem: PgTypeInfo | null;
  base: PgTypeInfo | null;
  /** `pg_type.typtypmod` of a domain: the typmod of its base type. */
  baseTypmod: number;
}

/** How one column is staged: its DuckDB type and how PostgreSQL's text becomes castable text. */
export interface PgColumnMapping {
  duckType: string;
  encoding: ValueEncoding;
  convert: (text: string) => string | null;
}

/** Called when a value cannot be represented and is staged as NULL (e.g. NaN in a DECIMAL column). */
export type ValueWarning = (message: string) => void;

interface Scalar {
  duckType: string;
  encoding?: ValueEncoding;
  convert?: (text: string, warn: ValueWarning) => string | null;
  /** Array elements of this type are JSON already. */
  json?: boolean;
}

const identity = (text: string): string => text;

// PostgreSQL prints BC dates as `0044-03-15 BC`; DuckDB reads astronomical years (`-0043-03-15`)
// and silently ignores a trailing `BC`, so rewrite them.
const BC_RE = /^(\d{4,})(-.*) BC$/;
function fixBc(text: string): string {
  const m = BC_RE.exec(text);
  if (m === null) return text;
  return `-${String(Number(m[1]) - 1).padStart(4, '0')}${m[2]}`;
}

const SCALARS: Record<string, Scalar> = {
  int2: { duckType: 'SMALLINT' },
  int4: { duckType: 'INTEGER' },
  int8: { duckType: 'BIGINT' },
  oid: { duckType: 'BIGINT' },
  float4: { duckType: 'REAL' },
  float8: { duckType: 'DOUBLE' },
  bool: { duckType: 'BOOLEAN', convert: (t) => (t === 't' ? 'true' : t === 'f' ? 'false' : t) },
  text: { duckType: 'VARCHAR' },
  varchar: { duckType: 'VARCHAR' },
  bpchar: { duckType: 'VARCHAR' },
  name: { duckType: 'VARCHAR' },
  citext: { duckType: 'VARCHAR' },
  char: { duckType: 'VARCHAR' },
  date: { duckType: 'DATE', convert: fixBc },
  time: { duckType: 'TIME' },
  timetz: { duckType: 'TIMETZ' },
  timestamp: { duckType: 'TIMESTAMP', convert: fixBc },
  timestamptz: { duckType: 'TIMESTAMPTZ', convert: fixBc },
  // IntervalStyle=postgres prints `-1 days +02:00:00`; DuckDB rejects the `+` but means the same without it.
  interval: { duckType: 'INTERVAL', convert: (t) => t.replaceAll('+', '') },
  uuid: { duckType: 'UUID' },
  json: { duckType: 'JSON', json: true },
  jsonb: { duckType: 'JSON', json: true },
  // bytea_output=hex prints `\x0102ab`; the destination decodes the bare digits with from_hex.
  bytea: { duckType: 'BLOB', encoding: 'hex', convert: (t) => (t.startsWith('\\x') ? t.slice(2) : t) },
};

const VARCHAR: Scalar = { duckType: 'VARCHAR' };

/** numeric(p,s) fits DuckDB's DECIMAL when 1 ≤ p ≤ 38 and 0 ≤ s ≤ p; anything else stays exact text. */
export function numericScalar(typmod: number): Scalar {
  if (typmod < 4) return VARCHAR;
  const precision = ((typmod - 4) >> 16) & 0xffff;
  const scale = ((((typmod - 4) & 0x7ff) ^ 1024) - 1024) | 0;
  if (precision < 1 || precision > 38 || scale < 0 || scale > precision) return VARCHAR;
  return {
    duckType: `DECIMAL(${precision},${scale})`,
    convert: (text, warn) => {
      if (/^-?[0-9]/.test(text)) return text;
      // The value itself stays out of logs (row data); NaN and ±Infinity are what reaches here.
      warn(`a numeric value that does not fit DECIMAL(${precision},${scale}) (NaN or Infinity) is staged as NULL`);
      return null;
    },
  };
}

function resolve(type: PgTypeInfo, typmod: number): { type: PgTypeInfo; typmod: number } {
  let t = type;
  let mod = typmod;
  for (let depth = 0; t.typtype === 'd' && t.base !== null && depth < 16; depth++) {
    mod = t.baseTypmod >= 0 ? t.baseTypmod : mod;
    t = t.base;
  }
  return { type: t, typmod: mod };
}

function scalarOf(type: PgTypeInfo, typmod: number): Scalar | null {
  const r = resolve(type, typmod);
  if (r.type.typtype === 'e') return VARCHAR;
  if (r.type.typtype !== 'b' || r.type.category === 'A') return null;
  if (r.type.name === 'numeric') return numericScalar(r.typmod);
  return SCALARS[r.type.name] ?? null;
}

/**
 * Maps a column's type to DuckDB. `ndims` is `pg_attribute.attndims` (0 when unknown): arrays
 * declared with more than one dimension, arrays of bytea and arrays of unmapped types stay text.
 * Types without a faithful DuckDB equivalent (inet, money, point, xml, ranges, ...) are VARCHAR.
 */
export function mapPgType(type: PgTypeInfo, typmod: number, ndims: number, warn: ValueWarning): PgColumnMapping {
  const r = resolve(type, typmod);
  if (r.type.category === 'A' && r.type.elem !== null) {
    const elem = scalarOf(r.type.elem, r.typmod);
    if (elem === null || ndims > 1 || elem.encoding === 'hex') return { duckType: 'VARCHAR', encoding: 'text', convert: identity };
    const convertElem = (t: string): string | null => (elem.convert === undefined ? t : elem.convert(t, warn));
    return {
      duckType: `${elem.duckType}[]`,
      encoding: 'json',
      convert: (text) => {
        const json = pgArrayToJson(text, convertElem, elem.json === true);
        if (json === null) {
          throw new BadValueError(
            `a ${type.name} value has more than one dimension, but the column was declared one-dimensional`,
            'declare the column with its dimensions (e.g. int[][]) so it is replicated as text',
          );
        }
        return json;
      },
    };
  }
  const scalar = scalarOf(r.type, r.typmod) ?? VARCHAR;
  const convert = scalar.convert;
  return {
    duckType: scalar.duckType,
    encoding: scalar.encoding ?? 'text',
    convert: convert === undefined ? identity : (text) => convert(text, warn),
  };
}

/** A `ColumnSchema` plus the converter for its values. */
export interface PgColumn {
  schema: ColumnSchema;
  convert: (text: string) => string | null;
}

/** Builds a column from its name, type, typmod, dimensions and `format_type` text. */
export function pgColumn(name: string, type: PgTypeInfo, typmod: number, ndims: number, sourceType: string, warn: ValueWarning): PgColumn {
  const m = mapPgType(type, typmod, ndims, warn);
  return { schema: { name, sourceType, duckType: m.duckType, encoding: m.encoding }, convert: m.convert };
}
