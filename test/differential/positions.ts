import { parseLsn } from '../../src/sources/postgres/postgres-position.js';
import { binlogFileIndex } from '../../src/sources/mysql/mysql-position.js';
import type { Dialect } from './column-types.js';

/**
 * Orders `__position` texts: PostgreSQL commit LSNs (`X/Y`), MariaDB transaction starts
 * (`file.000012:345`). Null when the text is not a position of that source.
 */
export function positionOrder(dialect: Dialect, text: string | null | undefined): bigint | null {
  if (text == null) return null;
  try {
    if (dialect === 'pg') return parseLsn(text);
    const m = /^(.+):(\d+)$/.exec(text);
    if (m === null) return null;
    return (BigInt(binlogFileIndex(m[1]!).index) << 40n) + BigInt(m[2]!);
  } catch {
    return null;
  }
}
