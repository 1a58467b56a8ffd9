import type { ValueClass } from './column-types.js';

/**
 * Canonical text of a value, so the source, the audit log and DuckDB can be compared exactly.
 * Only representation is normalised (a numeric's trailing zeros, a timestamp's offset and
 * fraction digits, JSON key order and spacing, bytea's `\x` prefix, `t`/`true`/`1`); two values
 * that differ in meaning never normalise to the same text. Text that does not parse as its
 * class is returned unchanged, so it shows up as a difference instead of being hidden.
 */
export function canonical(cls: ValueClass, text: string | null): string | null {
  if (text === null) return null;
  switch (cls) {
    case 'int':
      return /^[+-]?\d+$/.test(text.trim()) ? BigInt(text.trim()).toString() : text;
    case 'decimal':
      return canonicalDecimal(text);
    case 'bool':
      return canonicalBool(text);
    case 'ts':
      return canonicalTimestamp(text);
    case 'json':
      return canonicalJsonText(text);
    case 'bytes':
      return (text.startsWith('\\x') ? text.slice(2) : text).toLowerCase();
    case 'date':
    case 'text':
      return text;
  }
}

function canonicalDecimal(text: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) return text;
  const whole = m[2]!.replace(/^0+(?=\d)/, '') || '0';
  const frac = (m[3] ?? '').replace(/0+$/, '');
  if (/^0*$/.test(whole) && frac === '') return '0';
  return `${m[1] === '-' ? '-' : ''}${whole}${frac === '' ? '' : `.${frac}`}`;
}

function canonicalBool(text: string): string {
  const t = text.trim().toLowerCase();
  if (['t', 'true', '1'].includes(t)) return 'true';
  if (['f', 'false', '0'].includes(t)) return 'false';
  return text;
}

const TS_RE = /^(-?\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?$/;

/**
 * `YYYY-MM-DDTHH:MM:SS.ffffff` for a timestamp without zone, with `Z` appended for an instant
 * (converted to UTC). `infinity` / `-infinity` stay as they are.
 */
export function canonicalTimestamp(text: string): string {
  const m = TS_RE.exec(text.trim());
  if (m === null) return text.trim().toLowerCase() === 'infinity' || text.trim().toLowerCase() === '-infinity' ? text.trim().toLowerCase() : text;
  const [, y, mo, d, h, mi, s, frac = '', zone] = m;
  const micros = BigInt((frac + '000000').slice(0, 6));
  if (frac.length > 6 && /[1-9]/.test(frac.slice(6))) return text; // finer than microseconds: keep visible
  const days = daysFromCivil(Number(y), Number(mo), Number(d));
  let total = (BigInt(days) * 86400n + BigInt(Number(h) * 3600 + Number(mi) * 60 + Number(s))) * 1_000_000n + micros;
  if (zone !== undefined && zone !== 'Z') {
    const z = /^([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(zone)!;
    const offset = BigInt(Number(z[2]) * 3600 + Number(z[3] ?? 0) * 60 + Number(z[4] ?? 0)) * 1_000_000n;
    total -= z[1] === '-' ? -offset : offset;
  }
  return formatMicros(total) + (zone === undefined ? '' : 'Z');
}

function formatMicros(total: bigint): string {
  const perDay = 86_400_000_000n;
  let days = total / perDay;
  let rest = total % perDay;
  if (rest < 0n) {
    rest += perDay;
    days -= 1n;
  }
  const [y, mo, d] = civilFromDays(Number(days));
  const secs = Number(rest / 1_000_000n);
  const micros = Number(rest % 1_000_000n);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const year = y < 0 ? `-${p(-y, 4)}` : p(y, 4);
  return `${year}-${p(mo)}-${p(d)}T${p(Math.floor(secs / 3600))}:${p(Math.floor(secs / 60) % 60)}:${p(secs % 60)}.${p(micros, 6)}`;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
function daysFromCivil(y0: number, m: number, d: number): number {
  const y = m <= 2 ? y0 - 1 : y0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z0: number): [number, number, number] {
  const z = z0 + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

/** JSON text with keys sorted and no insignificant whitespace; unparsable text unchanged. */
function canonicalJsonText(text: string): string {
  try {
    return stableJson(JSON.parse(text));
  } catch {
    return text;
  }
}

export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A value for messages: long texts shortened (row data stays out of reports beyond a glimpse). */
export function preview(value: string | null | undefined, max = 48): string {
  if (value === undefined) return '(absent)';
  if (value === null) return 'NULL';
  const shown = value.length > max ? `${value.slice(0, max)}…(${value.length} chars)` : value;
  return JSON.stringify(shown);
}
