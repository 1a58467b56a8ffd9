/**
 * One change read from a source, in the column order of the table's current `TableSchema`.
 * Values are lossless text (see `ValueEncoding`); `null` is SQL NULL; `undefined` means
 * "not sent, keep what the destination has" (an unchanged TOASTed value, or a non-key column
 * of a delete).
 */
export type ChangeEvent = RowEvent | TruncateEvent;

export type RowOp = 'snapshot' | 'insert' | 'update' | 'delete';
export type Op = RowOp | 'truncate';

interface EventBase {
  /** `schema.name` */
  table: string;
  /** The position of the event's transaction, formatted for the `__position` column. */
  position: string;
  /** Commit time as ISO-8601 UTC with microseconds, or null (snapshot rows). */
  commitTs: string | null;
  /** Order within the transaction, from 0. */
  seq: number;
}

export interface RowEvent extends EventBase {
  op: RowOp;
  values: (string | null | undefined)[];
  /**
   * For an update that changed the primary key: the key before it, in primary-key order. The old
   * key no longer exists at the source (MERGE retires it); values the event did not send come
   * from the row under the old key.
   */
  oldKey?: (string | null)[];
}

export interface TruncateEvent extends EventBase {
  op: 'truncate';
  /** The shape declared with it is only a guess (see `TruncateSegment.shapeOnlyIfNew`). */
  shapeOnlyIfNew?: boolean;
}

export const OP_CODES: Record<Op, string> = {
  snapshot: 's',
  insert: 'i',
  update: 'u',
  delete: 'd',
  truncate: 't',
};
