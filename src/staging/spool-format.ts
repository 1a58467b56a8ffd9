import { OP_CODES, type RowEvent } from '../model/change-event.js';

/**
 * One staged row, one line of newline-delimited JSON:
 * `{"n":ordinal,"o":op code,"q":seq,"p":position,"t":commit ts|null,"u":[unsent column indexes]|null,"c":[values],"k":[old key]|null}`
 * - `n` orders rows within the whole batch (0-based, increasing);
 * - `o` is an `OP_CODES` letter; `c` holds every column of the segment's schema as text or null;
 * - `u` lists 0-based indexes of columns whose value was not sent (keep the destination's value);
 * - `k` holds the primary key before an update that changed it (primary-key order), else null.
 */
export interface SpoolLine {
  n: number;
  o: string;
  q: number;
  p: string;
  t: string | null;
  u: number[] | null;
  c: (string | null)[];
  k: (string | null)[] | null;
}

/** A field of a spool line and the type of its value (lists may be null as a whole). */
export interface SpoolField {
  name: keyof SpoolLine;
  type: 'int64' | 'text' | 'int32[]' | 'text[]';
}

/** Every field of a spool line, in the order `encodeSpoolLine` writes them. */
export const SPOOL_FIELDS: readonly SpoolField[] = [
  { name: 'n', type: 'int64' },
  { name: 'o', type: 'text' },
  { name: 'q', type: 'int64' },
  { name: 'p', type: 'text' },
  { name: 't', type: 'text' },
  { name: 'u', type: 'int32[]' },
  { name: 'c', type: 'text[]' },
  { name: 'k', type: 'text[]' },
];

export function encodeSpoolLine(ordinal: number, event: RowEvent): string {
  let unsent: number[] | null = null;
  const values: (string | null)[] = new Array<string | null>(event.values.length);
  for (let i = 0; i < event.values.length; i++) {
    const v = event.values[i];
    if (v === undefined) {
      (unsent ??= []).push(i);
      values[i] = null;
    } else {
      values[i] = v;
    }
  }
  const line: SpoolLine = {
    n: ordinal,
    o: OP_CODES[event.op],
    q: event.seq,
    p: event.position,
    t: event.commitTs,
    u: unsent,
    c: values,
    k: event.oldKey ?? null,
  };
  return JSON.stringify(line) + '\n';
}
