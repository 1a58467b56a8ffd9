/**
 * The benchmark workload's shape, the same on both sources: a table of text, numeric, timestamp
 * and JSON columns, and a change mix of 5 inserts : 3 updates : 1 delete (the reference backlog:
 * 900k changes = 500k inserts, 300k updates, 100k deletes). Updates and deletes hit rows that
 * exist, so every statement row is exactly one change event.
 */
export interface ChangeMix {
  inserts: number;
  updates: number;
  deletes: number;
}

export function changeMix(changes: number): ChangeMix {
  const inserts = Math.round((changes * 5) / 9);
  const updates = Math.round((changes * 3) / 9);
  return { inserts, updates, deletes: changes - inserts - updates };
}

/** Rows per statement (each statement its own transaction) when writing a backlog. */
export const STATEMENT_ROWS = 10_000;

/** Inclusive id ranges of at most `size` ids covering `first`..`last`. */
export function* idRanges(first: number, last: number, size = STATEMENT_ROWS): Generator<[number, number]> {
  for (let from = first; from <= last; from += size) yield [from, Math.min(from + size - 1, last)];
}

/**
 * A steady writer's bookkeeping: live ids are one contiguous range (deletes take the oldest,
 * inserts append), so each tick's updates and deletes touch existing rows only.
 */
export class LiveRange {
  private updateAt: number;

  constructor(
    private first: number,
    private next: number,
  ) {
    this.updateAt = first;
  }

  /** The id ranges of one transaction of `changes` changes in the shape's mix (empty ranges have from > to). */
  take(changes: number): { insert: [number, number]; update: [number, number]; delete: [number, number] } {
    const mix = changeMix(changes);
    const insert: [number, number] = [this.next, this.next + mix.inserts - 1];
    this.next += mix.inserts;
    const del: [number, number] = [this.first, this.first + mix.deletes - 1];
    this.first += mix.deletes;
    if (this.updateAt < this.first || this.updateAt + mix.updates > insert[0]) this.updateAt = this.first;
    const update: [number, number] = [this.updateAt, this.updateAt + mix.updates - 1];
    this.updateAt += mix.updates;
    return { insert, update, delete: del };
  }
}
