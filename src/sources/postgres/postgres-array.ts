/** A parsed PostgreSQL array: elements as text (`null` for SQL NULL), nested for more dimensions. */
export type PgArray = (string | null | PgArray)[];

/**
 * Parses PostgreSQL's array text output (`{1,2,NULL,"a,b","x\"y"}`, optionally prefixed by
 * explicit bounds like `[2:3]=`, which are dropped). Quoted elements are unescaped; an unquoted
 * `NULL` is SQL NULL, a quoted `"NULL"` is the string. Delimiter is `,` (every type we map to a list).
 */
export function parsePgArray(text: string): PgArray {
  let pos = 0;
  if (text.startsWith('[')) {
    pos = text.indexOf('=') + 1;
    if (pos === 0) throw new SyntaxError(`malformed array literal: ${text}`);
  }
  const fail = (): never => {
    throw new SyntaxError(`malformed array literal at ${pos}: ${text}`);
  };
  const skipSpace = (): void => {
    while (pos < text.length && /\s/.test(text.charAt(pos))) pos++;
  };

  const parseArray = (): PgArray => {
    if (text[pos] !== '{') fail();
    pos++;
    const out: PgArray = [];
    skipSpace();
    if (text[pos] === '}') {
      pos++;
      return out;
    }
    for (;;) {
      skipSpace();
      out.push(parseElement());
      skipSpace();
      const c = text[pos++];
      if (c === '}') return out;
      if (c !== ',') fail();
    }
  };

  const parseElement = (): string | null | PgArray => {
    const c = text[pos];
    if (c === '{') return parseArray();
    if (c === '"') {
      pos++;
      let s = '';
      for (;;) {
        if (pos >= text.length) fail();
        const ch = text.charAt(pos++);
        if (ch === '"') return s;
        s += ch === '\\' ? text.charAt(pos++) : ch;
      }
    }
    let s = '';
    while (pos < text.length && text[pos] !== ',' && text[pos] !== '}') {
      const ch = text.charAt(pos++);
      s += ch === '\\' ? text.charAt(pos++) : ch;
    }
    s = s.trimEnd();
    if (s === '') fail();
    return s.toUpperCase() === 'NULL' ? null : s;
  };

  const result = parseArray();
  skipSpace();
  if (pos !== text.length) fail();
  return result;
}

/**
 * Converts a one-dimensional array literal to a JSON array text that DuckDB casts to a list:
 * elements become JSON strings (after `convert`), or are inserted verbatim when `raw` (json/jsonb
 * elements, already JSON). Returns null when the value is multi-dimensional.
 */
export function pgArrayToJson(text: string, convert: (element: string) => string | null, raw: boolean): string | null {
  const items = parsePgArray(text);
  const parts: string[] = [];
  for (const item of items) {
    if (Array.isArray(item)) return null;
    const v = item === null ? null : convert(item);
    parts.push(v === null ? 'null' : raw ? v : JSON.stringify(v));
  }
  return `[${parts.join(',')}]`;
}

/**
 * The one element of a one-element array literal (how `pg_attribute.attmissingval` prints a
 * column's missing value) as that element's own text; an element that is itself an array (a
 * column of an array type) is printed back as an array literal. Null for SQL NULL.
 */
export function singleArrayElement(text: string): string | null {
  const items = parsePgArray(text);
  if (items.length !== 1) throw new SyntaxError(`expected a one-element array, got ${items.length} elements`);
  const item = items[0] ?? null;
  return Array.isArray(item) ? formatPgArray(item) : item;
}

function formatPgArray(items: PgArray): string {
  const element = (v: string | null | PgArray): string =>
    v === null ? 'NULL' : Array.isArray(v) ? formatPgArray(v) : `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  return `{${items.map(element).join(',')}}`;
}
