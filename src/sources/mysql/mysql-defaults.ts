import type { ColumnSchema } from '../../model/table-schema.js';
import type { ValueKind } from './mysql-types.js';
import { fromText } from './mysql-values.js';

/** What information_schema.COLUMNS says about a column's default. */
export interface DefaultInfo {
  /** `COLUMN_DEFAULT`: MariaDB quotes string literals (`'x'`) and prints expressions (`current_timestamp()`); MySQL prints literals bare. */
  columnDefault: string | null;
  nullable: boolean;
  /** `EXTRA`: MySQL marks expression defaults `DEFAULT_GENERATED`. */
  extra: string;
}

type Backfill = Pick<ColumnSchema, 'backfill' | 'backfillUnknown'>;

const UNKNOWN: Backfill = { backfillUnknown: true };
/** Kinds whose default text cannot be turned into the staged value with certainty. */
const OPAQUE = new Set<ValueKind>(['binary', 'geometry', 'timestamp', 'other']);

/**
 * What rows that existed before a column was added read: `ALTER TABLE … ADD COLUMN` fills them
 * with the column's default, or, for a NOT NULL column without one, the type's implicit default
 * (0, ''). An expression default (`CURRENT_TIMESTAMP`, `(RAND())`) gives values Ducktail cannot
 * know: `backfillUnknown`.
 */
export function backfillOf(kind: ValueKind, info: DefaultInfo): Backfill {
  const raw = info.columnDefault;
  if (raw === null || raw === 'NULL') return info.nullable ? { backfill: null } : implicitDefault(kind);
  if (/DEFAULT_GENERATED/i.test(info.extra)) return UNKNOWN;
  let text: string;
  const quoted = /^'([\s\S]*)'$/.exec(raw);
  const bits = /^b'([01]*)'$/i.exec(raw);
  if (quoted !== null) text = unquote(quoted[1] ?? '');
  else if (bits !== null && kind === 'bit') return { backfill: BigInt(`0b0${bits[1] ?? ''}`).toString() };
  else if (/^[A-Za-z_][\w$]*\(.*\)$/s.test(raw) || /^current_timestamp$/i.test(raw)) return UNKNOWN;
  else text = raw;
  if (OPAQUE.has(kind) || kind === 'bit') return UNKNOWN;
  return { backfill: fromText(kind, text) };
}

function implicitDefault(kind: ValueKind): Backfill {
  switch (kind) {
    case 'int':
    case 'decimal':
    case 'float':
    case 'double':
    case 'bit':
      return { backfill: '0' };
    case 'text':
      return { backfill: '' };
    case 'set':
      return { backfill: '[]' };
    case 'date':
    case 'datetime':
      return { backfill: null }; // the zero date, which Ducktail stages as NULL
    default:
      return UNKNOWN;
  }
}

/** MariaDB's quoting of a string default: doubled quotes and backslash escapes. */
function unquote(body: string): string {
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', Z: '\x1a', b: '\b' };
  return body.replace(/''|\\(.)/gs, (m: string, c: string | undefined) => (m === "''" ? "'" : (escapes[c ?? ''] ?? c ?? '')));
}
