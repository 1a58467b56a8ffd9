import { duckDecimalScale, type SideColumn } from './column-class.js';
import { floatCanonical, type Dialect } from './dialect.js';

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const literal = (value: string): string => `'${value.replaceAll("'", "''")}'`;

const orInfinite = (c: string, epoch: string, finite: string): string =>
  `CASE WHEN ${c} IS NULL THEN NULL WHEN isinf(${c}) THEN (CASE WHEN ${c} > ${epoch} THEN 'inf' ELSE '-inf' END) ELSE ${finite} END`;

const TIMESTAMP_TEXT = "'%Y-%m-%d %H:%M:%S.%f'";

/** The column's value as a DECIMAL with the source's scale (a widened column may have more). */
function decimalAsSource(col: SideColumn, c: string, scale: number): string {
  return duckDecimalScale(col.type) === scale ? c : `CAST(${c} AS DECIMAL(38,${scale}))`;
}

function canonical(col: SideColumn): string {
  const c = quote(col.name);
  switch (col.cls.kind) {
    case 'int':
    case 'text':
    case 'json':
    case 'uuid':
      return `CAST(${c} AS VARCHAR)`;
    case 'decimal':
      return `CAST(${decimalAsSource(col, c, col.cls.scale)} AS VARCHAR)`;
    case 'char':
      return `rtrim(CAST(${c} AS VARCHAR), ' ')`;
    case 'set':
      return `array_to_string(${c}, ',')`;
    case 'float':
      return floatCanonical(c, {
        double: (x) => `CAST(${x} AS DOUBLE)`,
        log2Floor: (a) => `floor(log2(${a}))`,
        pow2: (e) => `pow(2.0, ${e})`,
        intText: (x) => `CAST(CAST(${x} AS BIGINT) AS VARCHAR)`,
        concat: (parts) => `(${parts.join(' || ')})`,
        special: (x) => `WHEN isnan(${x}) THEN 'nan' WHEN isinf(${x}) AND ${x} > 0 THEN 'inf' WHEN isinf(${x}) THEN '-inf'`,
      });
    case 'bool':
      return `CASE WHEN ${c} IS NULL THEN NULL WHEN ${c} THEN 'true' ELSE 'false' END`;
    case 'bytes':
      return `lower(hex(${c}))`;
    case 'date':
      return orInfinite(c, "DATE '1970-01-01'", `CAST(${c} - DATE '1970-01-01' AS VARCHAR)`);
    case 'timestamp':
      return orInfinite(c, "TIMESTAMP '1970-01-01'", `CAST(epoch_us(${c}) AS VARCHAR)`);
    case 'timestamptz':
      return orInfinite(c, "TIMESTAMPTZ '1970-01-01 00:00:00+00'", `CAST(epoch_us(${c}) AS VARCHAR)`);
    case 'time':
      return `CAST(epoch_us(${c}) AS VARCHAR)`;
  }
}

function keyText(col: SideColumn): string {
  const c = quote(col.name);
  switch (col.cls.kind) {
    case 'date':
      return `CAST(${c} AS VARCHAR)`;
    case 'timestamp':
      return `strftime(${c}, ${TIMESTAMP_TEXT})`;
    case 'timestamptz':
      // In UTC without depending on the session's time zone.
      return `strftime(make_timestamp(epoch_us(${c})), ${TIMESTAMP_TEXT})`;
    default:
      return canonical(col);
  }
}

function keyOrder(col: SideColumn): string {
  const c = quote(col.name);
  // VARCHAR compares by bytes, UUID in the order of its text: as every source's keyOrder.
  return col.cls.kind === 'char' ? `rtrim(${c}, ' ')` : c;
}

function keyBound(col: SideColumn, param: string): string {
  switch (col.cls.kind) {
    case 'int':
    case 'decimal':
    case 'date':
    case 'timestamp':
      return `CAST(${param} AS ${col.type})`;
    case 'timestamptz':
      return `CAST(${param} || '+00' AS TIMESTAMPTZ)`;
    case 'uuid':
      return col.type === 'UUID' ? `CAST(${param} AS UUID)` : param;
    case 'bytes':
      return `from_hex(${param})`;
    default:
      return param;
  }
}

/** DuckDB, over the pipeline's copy. Parameters are inlined as literals. */
export function duckdbDialect(): Dialect {
  return {
    name: 'duckdb',
    ident: quote,
    canonical,
    keyText,
    keyOrder,
    keyBound,
    rowHash(canonicals) {
      const parts = canonicals.map((x) => `COALESCE(CAST(strlen(${x}) AS VARCHAR) || ':' || ${x}, 'N')`);
      return `CAST('0x' || substr(md5(${parts.join(' || ')}), 1, 15) AS BIGINT)`;
    },
    countText: () => 'CAST(count(*) AS VARCHAR)',
    sumText: (hash) => `CAST(COALESCE(sum(${hash}), 0) AS VARCHAR)`,
    intText: (expr) => `CAST(${expr} AS VARCHAR)`,
    placeholder: (_n, value) => literal(value),
  };
}
