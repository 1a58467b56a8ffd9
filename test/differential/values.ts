import { createHash } from 'node:crypto';
import type { ColumnType, Dialect } from './column-types.js';
import type { Prng } from './prng.js';

/**
 * A generated value as text the driver binds as a parameter: numbers as decimal text, booleans
 * `true`/`false`, bytes as lowercase hex without prefix, JSON as JSON text, timestamps with an
 * offset on PostgreSQL and without one on MariaDB (DATETIME has none). `null` is SQL NULL.
 */
export type Val = string | null;

/** Texts chosen to break careless quoting, trimming, escaping or encoding. */
const NASTY_TEXTS = [
  '',
  ' ',
  '  leading and trailing  ',
  "O'Reilly",
  '"double" quotes',
  'back\\slash \\x00 \\n',
  'tab\tand\nnewline\r\n',
  'NULL',
  'null',
  'ünïcødé ✓ 表 ключ',
  'emoji 😀🦆',
  '-- not a comment; DROP TABLE x',
  '{"looks": "like json"}',
  '\\x0102',
];

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,;:!?\'"\\/()[]{}ßéøπж表😀';
const CODE_POINTS = [...ALPHABET];

function randomText(rng: Prng, maxChars: number): string {
  const n = rng.int(0, maxChars);
  let s = '';
  for (let i = 0; i < n; i++) s += rng.pick(CODE_POINTS);
  return s;
}

/** At most `n` characters (code points, as varchar(n) counts them on both sources). */
function fitChars(s: string, n: number): string {
  const cps = [...s];
  return cps.length <= n ? s : cps.slice(0, n).join('');
}

function digits(rng: Prng, n: number): string {
  let s = String(rng.int(1, 9));
  for (let i = 1; i < n; i++) s += String(rng.int(0, 9));
  return s;
}

const INT_EDGES = ['0', '1', '-1', '2147483647', '-2147483648'];
const BIGINT_EDGES = ['0', '-1', '9223372036854775807', '-9223372036854775808', '9007199254740993', '-9007199254740993'];

function intValue(rng: Prng): string {
  if (rng.chance(0.15)) return rng.pick(INT_EDGES);
  if (rng.chance(0.5)) return String(rng.int(-1000, 1000));
  return String(rng.int(-2147483648, 2147483647));
}

function bigintValue(rng: Prng): string {
  if (rng.chance(0.15)) return rng.pick(BIGINT_EDGES);
  if (rng.chance(0.4)) return String(rng.int(-100000, 100000));
  const v = (BigInt(rng.u32()) << 31n) ^ BigInt(rng.u32());
  return (rng.chance(0.5) ? -v : v).toString();
}

function numericValue(rng: Prng, p: number, s: number): string {
  const intDigits = p - s;
  const whole = rng.chance(0.2) ? '0' : digits(rng, rng.int(1, intDigits));
  const frac = s === 0 ? '' : `.${Array.from({ length: s }, () => rng.int(0, 9)).join('')}`;
  return `${rng.chance(0.3) ? '-' : ''}${whole}${frac}`;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** A calendar day between 1901 and 2099 (days 1–28, so every month has it). */
function dateText(rng: Prng): string {
  return `${rng.int(1901, 2099)}-${pad(rng.int(1, 12))}-${pad(rng.int(1, 28))}`;
}

function timeText(rng: Prng): string {
  const base = `${pad(rng.int(0, 23))}:${pad(rng.int(0, 59))}:${pad(rng.int(0, 59))}`;
  if (rng.chance(0.2)) return base;
  return `${base}.${pad(rng.int(0, 999999), 6)}`;
}

const OFFSETS = ['+00', '+00:00', '+05:30', '-08', '+14', '-03:30', 'Z'];

function tsValue(rng: Prng, dialect: Dialect): string {
  if (dialect === 'pg' && rng.chance(0.02)) return rng.pick(['infinity', '-infinity']);
  const local = `${dateText(rng)} ${timeText(rng)}`;
  return dialect === 'pg' ? `${local}${rng.pick(OFFSETS)}` : local;
}

function jsonLeaf(rng: Prng): unknown {
  switch (rng.int(0, 5)) {
    case 0:
      return rng.int(-1000000, 1000000);
    case 1:
      return rng.chance(0.5);
    case 2:
      return null;
    default:
      return rng.chance(0.3) ? rng.pick(NASTY_TEXTS) : randomText(rng, 12);
  }
}

function jsonNode(rng: Prng, depth: number): unknown {
  if (depth > 2 || rng.chance(0.4)) return jsonLeaf(rng);
  if (rng.chance(0.5)) return Array.from({ length: rng.int(0, 4) }, () => jsonNode(rng, depth + 1));
  const obj: Record<string, unknown> = {};
  for (let i = rng.int(0, 4); i > 0; i--) obj[rng.chance(0.2) ? rng.pick(['a b', 'ключ', 'q"k', '']) : `k${rng.int(0, 9)}`] = jsonNode(rng, depth + 1);
  return obj;
}

/**
 * JSON values are always an object or an array at the top: a top-level string or `null` would
 * read back ambiguously from PostgreSQL's jsonb_each_text in the audit log.
 */
function jsonValue(rng: Prng): string {
  const top = rng.chance(0.5) ? {} : [];
  const filled = jsonNode(rng, 0);
  if (Array.isArray(top)) return JSON.stringify(Array.isArray(filled) ? filled : [filled]);
  return JSON.stringify(filled !== null && typeof filled === 'object' && !Array.isArray(filled) ? filled : { v: filled });
}

function bytesValue(rng: Prng): string {
  const n = rng.chance(0.1) ? 0 : rng.int(1, 32);
  let hex = '';
  for (let i = 0; i < n; i++) hex += rng.int(0, 255).toString(16).padStart(2, '0');
  return hex;
}

/** A value of type `t` (NULL with probability `nullP`). */
export function genValue(rng: Prng, t: ColumnType, dialect: Dialect, nullP = 0.08): Val {
  if (rng.chance(nullP)) return null;
  switch (t.base) {
    case 'int':
      return intValue(rng);
    case 'bigint':
      return bigintValue(rng);
    case 'numeric':
      return numericValue(rng, t.p, t.s);
    case 'varchar':
      return fitChars(rng.chance(0.3) ? rng.pick(NASTY_TEXTS) : randomText(rng, t.n), t.n);
    case 'text':
      if (rng.chance(0.02)) return randomText(rng, 3000);
      return rng.chance(0.3) ? rng.pick(NASTY_TEXTS) : randomText(rng, 60);
    case 'bool':
      return rng.chance(0.5) ? 'true' : 'false';
    case 'ts':
      return tsValue(rng, dialect);
    case 'date':
      return dateText(rng);
    case 'json':
      return jsonValue(rng);
    case 'bytes':
      return bytesValue(rng);
  }
}

/** A constant for `ADD COLUMN … DEFAULT` (never NULL: the point is that existing rows read it). */
export function genDefault(rng: Prng, t: ColumnType, dialect: Dialect): string {
  const v = genValue(rng, t, dialect, 0);
  return v ?? '0';
}

/**
 * A text of 8–20 KB that does not compress (concatenated md5 digests): PostgreSQL stores it
 * out of line (TOAST), so an UPDATE that does not touch it sends it as "unchanged toast".
 */
export function toastValue(rng: Prng): string {
  const target = rng.int(8 * 1024, 20 * 1024);
  const salt = rng.u32();
  let s = '';
  for (let i = 0; s.length < target; i++) s += createHash('md5').update(`${salt}:${i}`).digest('hex');
  return s.slice(0, target);
}
