import type { SideColumn } from './column-class.js';
import { floatCanonical, type Dialect } from './dialect.js';

const quote = (name: string): string => `\`${name.replaceAll('`', '``')}\``;

/** Text in utf8mb4 (the connection's character set), whatever the column's. */
const utf8 = (c: string): string => `CAST(${c} AS CHAR CHARACTER SET utf8mb4)`;

/** BIT and YEAR print as bits and 4-digit years; `+ 0` makes them the integers DuckDB holds. */
const asNumber = (col: SideColumn, c: string): string => (/^(bit|year)\b/.test(col.type) ? `(${c} + 0)` : c);

/**
 * MySQL/MariaDB. Needs a session with `time_zone = '+00:00'` (TIMESTAMP values read in UTC, as
 * the pipeline reads them) and utf8mb4 as its character set.
 */
function canonical(col: SideColumn): string {
  const c = quote(col.name);
  switch (col.cls.kind) {
    case 'int':
      return `CAST(${asNumber(col, c)} AS CHAR)`;
    case 'decimal':
      return `CAST(${c} AS CHAR)`;
    case 'text':
    case 'json':
    case 'uuid':
    case 'set':
      return utf8(c);
    case 'char':
      return `RTRIM(${utf8(c)})`;
    case 'float':
      return floatCanonical(c, {
        double: (x) => `(${x} + 0E0)`,
        log2Floor: (a) => `FLOOR(LOG2(${a}))`,
        pow2: (e) => `POW(2, ${e})`,
        intText: (x) => `CAST(CAST(${x} AS SIGNED) AS CHAR)`,
        concat: (parts) => `CONCAT(${parts.join(', ')})`,
        special: () => '', // MySQL has no NaN or infinities
      });
    case 'bool':
      return `CASE WHEN ${c} IS NULL THEN NULL WHEN ${c} THEN 'true' ELSE 'false' END`;
    case 'bytes':
      return `LOWER(HEX(${c}))`;
    case 'date':
      // Zero dates give NULL, as the pipeline stages them.
      return `CAST(DATEDIFF(${c}, '1970-01-01') AS CHAR)`;
    case 'timestamp':
    case 'timestamptz':
      return `CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', ${c}) AS CHAR)`;
    case 'time':
      return `CAST(CAST(TIME_TO_SEC(${c}) * 1000000 AS DECIMAL(20,0)) AS CHAR)`;
  }
}

function keyText(col: SideColumn): string {
  const c = quote(col.name);
  switch (col.cls.kind) {
    case 'date':
      return `DATE_FORMAT(${c}, '%Y-%m-%d')`;
    case 'timestamp':
    case 'timestamptz':
      return `DATE_FORMAT(${c}, '%Y-%m-%d %H:%i:%s.%f')`;
    default:
      return canonical(col);
  }
}

function keyOrder(col: SideColumn): string {
  const c = quote(col.name);
  switch (col.cls.kind) {
    // Texts (and MariaDB's UUID, which sorts its own way) compare by their UTF-8 bytes, as in
    // DuckDB, not by the column's collation (case- and accent-insensitive, trailing blanks ignored).
    case 'text':
    case 'char':
    case 'uuid':
      return `CAST(${canonical(col)} AS BINARY)`;
    case 'int':
      return asNumber(col, c);
    default:
      return c;
  }
}

function keyBound(col: SideColumn, param: string): string {
  switch (col.cls.kind) {
    case 'int':
      return /unsigned|^bit\b/.test(col.type) ? `CAST(${param} AS UNSIGNED)` : `CAST(${param} AS SIGNED)`;
    case 'decimal':
      return `CAST(${param} AS DECIMAL(65,30))`;
    case 'bytes':
      return `UNHEX(${param})`;
    case 'date':
      return `CAST(${param} AS DATE)`;
    case 'timestamp':
    case 'timestamptz':
      return `CAST(${param} AS DATETIME(6))`;
    default:
      return `CAST(${param} AS BINARY)`;
  }
}

export function mysqlDialect(): Dialect {
  return {
    name: 'mysql',
    ident: quote,
    canonical,
    keyText,
    keyOrder,
    keyBound,
    rowHash(canonicals) {
      // As bytes, so columns of different collations concatenate and lengths count bytes.
      const parts = canonicals.map((x) => {
        const b = `CAST(${x} AS BINARY)`;
        return `COALESCE(CONCAT(LENGTH(${b}), ':', ${b}), 'N')`;
      });
      return `CAST(CONV(SUBSTRING(MD5(CONCAT(${parts.join(', ')})), 1, 15), 16, 10) AS UNSIGNED)`;
    },
    countText: () => 'CAST(COUNT(*) AS CHAR)',
    sumText: (hash) => `CAST(COALESCE(SUM(${hash}), 0) AS CHAR)`,
    intText: (expr) => `CAST(${expr} AS CHAR)`,
    placeholder: () => '?',
  };
}
