import type { SideColumn } from './column-class.js';
import { floatCanonical, type Dialect } from './dialect.js';

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** `inf` / `-inf` for infinite dates and timestamps, else `finite`. */
const orInfinite = (c: string, finite: string): string =>
  `CASE WHEN ${c} IS NULL THEN NULL WHEN NOT isfinite(${c}) THEN (CASE WHEN ${c} > 'epoch' THEN 'inf' ELSE '-inf' END) ELSE ${finite} END`;

const micros = (c: string): string => `(round(extract(epoch FROM ${c}) * 1000000))::int8::text`;

function canonical(col: SideColumn): string {
  const c = quote(col.name);
  switch (col.cls.kind) {
    case 'int':
    case 'decimal':
    case 'json':
    case 'uuid':
    case 'set':
      return `(${c})::text`;
    case 'text':
      // The type's output function, as the pipeline staged it (`::text` differs for some, e.g. inet adds /32).
      return `CASE WHEN ${c} IS NULL THEN NULL ELSE format('%s', ${c}) END`;
    case 'char':
      return `rtrim((${c})::text, ' ')`;
    case 'float':
      return floatCanonical(c, {
        double: (x) => `(${x})::float8`,
        log2Floor: (a) => `floor(ln(${a}) / ln(2::float8))`,
        pow2: (e) => `power(2::float8, ${e})`,
        intText: (x) => `(${x})::int8::text`,
        concat: (parts) => `(${parts.join(' || ')})`,
        special: (x) => `WHEN ${x} = 'NaN'::float8 THEN 'nan' WHEN ${x} = 'Infinity'::float8 THEN 'inf' WHEN ${x} = '-Infinity'::float8 THEN '-inf'`,
      });
    case 'bool':
      return `CASE WHEN ${c} IS NULL THEN NULL WHEN ${c} THEN 'true' ELSE 'false' END`;
    case 'bytes':
      return `encode(${c}, 'hex')`;
    case 'date':
      return orInfinite(c, `(${c} - DATE '1970-01-01')::text`);
    case 'timestamp':
    case 'timestamptz':
      return orInfinite(c, micros(c));
    case 'time':
      return micros(c);
  }
}

function keyText(col: SideColumn): string {
  const c = quote(col.name);
  switch (col.cls.kind) {
    case 'bytes':
      return `encode(${c}, 'hex')`;
    case 'date':
      return `to_char(${c}, 'YYYY-MM-DD')`;
    case 'timestamp':
      return `to_char(${c}, 'YYYY-MM-DD HH24:MI:SS.US')`;
    case 'timestamptz':
      return `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`;
    default:
      return canonical(col);
  }
}

function keyOrder(col: SideColumn): string {
  const c = quote(col.name);
  switch (col.cls.kind) {
    // Texts compare by bytes (code points), whatever the column's collation, as in DuckDB.
    case 'text':
      return `(${canonical(col)} COLLATE "C")`;
    case 'char':
      return `(rtrim((${c})::text, ' ') COLLATE "C")`;
    default:
      return c;
  }
}

function keyBound(col: SideColumn, param: string): string {
  switch (col.cls.kind) {
    case 'int':
      return `CAST(${param} AS ${col.type})`;
    case 'decimal':
      return `CAST(${param} AS numeric)`;
    case 'uuid':
      return `CAST(${param} AS uuid)`;
    case 'bytes':
      return `decode(${param}, 'hex')`;
    case 'date':
      return `CAST(${param} AS date)`;
    case 'timestamp':
      return `CAST(${param} AS timestamp)`;
    case 'timestamptz':
      return `CAST(${param} || '+00' AS timestamptz)`;
    default:
      return `CAST(${param} AS text)`;
  }
}

/**
 * PostgreSQL. `utf8` false (a database not encoded in UTF-8) hashes the UTF-8 bytes of the text
 * (`convert_to`), as DuckDB and MySQL do.
 */
export function postgresDialect(utf8 = true): Dialect {
  const bytes = (t: string): string => (utf8 ? t : `convert_to(${t}, 'UTF8')`);
  return {
    name: 'postgres',
    ident: quote,
    canonical,
    keyText,
    keyOrder,
    keyBound,
    rowHash(canonicals) {
      const parts = canonicals.map((x) => `COALESCE(octet_length(${bytes(x)})::text || ':' || ${x}, 'N')`);
      return `('x' || substr(md5(${bytes(`(${parts.join(' || ')})`)}), 1, 15))::bit(60)::int8`;
    },
    countText: () => 'count(*)::text',
    sumText: (hash) => `COALESCE(sum(${hash}), 0)::text`,
    intText: (expr) => `(${expr})::text`,
    placeholder: (n) => `$${n}`,
  };
}
