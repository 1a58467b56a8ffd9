import type { ValueKind } from './mysql-types.js';

/**
 * Value conversion to lossless, DuckDB-castable text (see `ValueEncoding`). Two inputs:
 * - binlog values as zongji decodes them (with `dateStrings`, `jsonStrings`): numbers, exact
 *   strings for 64-bit integers beyond 2^53 and for DECIMAL, Buffers for binary data, BIT and
 *   MariaDB UUID/INET (indistinguishable from BINARY in the binlog), shape objects for geometry;
 * - snapshot values read with a typeCast that keeps each field's raw text-protocol bytes.
 */

/** Converts one zongji-decoded binlog value. */
export function fromBinlog(kind: ValueKind, v: unknown): string | null {
  if (v === null) return null;
  if (v === undefined) return kind === 'enum' ? '' : null; // enum index 0: the '' error value
  if (Buffer.isBuffer(v)) return fromBytes(kind, v);
  switch (kind) {
    case 'float':
      return typeof v === 'number' ? float32Text(v) : asText(v);
    case 'year':
      // zongji adds 1900 to the stored byte, so YEAR 0000 (stored 0) arrives as 1900, which YEAR cannot hold.
      return Number(v) === 1900 ? '0' : asText(v);
    case 'geometry':
      return JSON.stringify(v);
    case 'json':
      return asText(v);
    default:
      if (v instanceof Date) return fromText(kind, v.toISOString().replace('T', ' ').replace('Z', ''));
      return fromText(kind, asText(v));
  }
}

/** Converts one snapshot value (raw text-protocol bytes, or a geometry shape). */
export function fromSnapshot(kind: ValueKind, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  // Read as DOUBLE (see `snapshotColumn`): the float32 value exactly, then its shortest text, as from the binlog.
  if (kind === 'float') return float32Text(Math.fround(Number(Buffer.isBuffer(v) ? v.toString('utf8') : asText(v))));
  if (Buffer.isBuffer(v)) {
    const raw = kind === 'binary' || kind === 'bit' || (kind === 'other' && !isUtf8(v));
    return raw ? fromBytes(kind, v) : fromText(kind, v.toString('utf8'));
  }
  if (kind === 'geometry') return JSON.stringify(v);
  return fromText(kind, asText(v));
}

function fromBytes(kind: ValueKind, b: Buffer): string {
  switch (kind) {
    case 'bit':
      return b.length === 0 ? '0' : BigInt(`0x${b.toString('hex')}`).toString();
    case 'uuid':
      return formatUuid(b);
    case 'inet4':
      return formatInet4(b);
    case 'inet6':
      return formatInet6(b);
    case 'text':
    case 'json':
    case 'enum':
    case 'set':
    case 'decimal':
      return fromText(kind, b.toString('utf8'))!;
    default:
      return b.toString('hex');
  }
}

/** Normalises server text (or a zongji string) for one kind; null for values DuckDB cannot hold. */
export function fromText(kind: ValueKind, t: string): string | null {
  switch (kind) {
    case 'date':
    case 'datetime':
      return isZeroDate(t) ? null : t;
    case 'timestamp':
      return isZeroDate(t) ? null : `${t}+00`;
    case 'year':
      return String(Number(t));
    case 'set':
      return JSON.stringify(t === '' ? [] : t.split(','));
    default:
      return t;
  }
}

/** MySQL zero dates (`0000-00-00`, or a zero month/day) have no DuckDB equivalent. */
function isZeroDate(t: string): boolean {
  return /^\d{4}-00-|^\d{4}-\d{2}-00|^0000-/.test(t);
}

/** The shortest decimal text that reads back as the same float32 (zongji widens FLOAT to a double). */
export function float32Text(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  for (let p = 1; p <= 9; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return String(s);
  }
  return String(v);
}

export function formatUuid(b: Buffer): string {
  const h = b.toString('hex').padEnd(32, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function formatInet4(b: Buffer): string {
  return [...b.subarray(0, 4)].join('.');
}

/** RFC 5952 text, as MariaDB prints INET6 (IPv4-mapped and -compatible addresses dotted). */
export function formatInet6(b: Buffer): string {
  const buf = Buffer.alloc(16);
  b.copy(buf);
  if (buf.subarray(0, 10).every((x) => x === 0)) {
    const v4 = formatInet4(buf.subarray(12));
    if (buf[10] === 0xff && buf[11] === 0xff) return `::ffff:${v4}`;
    if (buf[10] === 0 && buf[11] === 0 && buf.readUInt32BE(12) > 1) return `::${v4}`;
  }
  const groups = Array.from({ length: 8 }, (_, i) => buf.readUInt16BE(i * 2));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Strings as they are, numbers in JavaScript's shortest round-trip form, anything else as JSON. */
function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function isUtf8(b: Buffer): boolean {
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

/**
 * A column as a snapshot selects it. The text protocol prints FLOAT with 6 significant digits
 * (1.2345678 comes out 1.23457): FLOAT is read as DOUBLE, which holds the stored float32 exactly.
 */
export function snapshotColumn(kind: ValueKind, quoted: string): string {
  return kind === 'float' ? `CAST(${quoted} AS DOUBLE)` : quoted;
}
