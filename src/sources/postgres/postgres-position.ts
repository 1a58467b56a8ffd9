import type { Checkpoint } from '../../model/checkpoint.js';
import type { PgPosition, Position } from '../../model/position.js';

/**
 * PostgreSQL positions. A `PgPosition` means "every transaction committed before `lsn`, plus
 * the transaction whose commit record is at `lsn`": all of it when `seq` is absent, only its first
 * `seq` events otherwise. `seq: 0` is a boundary that includes nothing at `lsn` itself, used for
 * the slot's consistent point: a transaction may commit exactly there and must still be streamed.
 */

const LSN_RE = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** Parses `X/Y` (hex halves) into a 64-bit number. Throws on anything else. */
export function parseLsn(lsn: string): bigint {
  const m = LSN_RE.exec(lsn);
  if (m === null) throw new Error(`not a PostgreSQL LSN: ${JSON.stringify(lsn)}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** Formats like PostgreSQL does (`%X/%X`, no padding): `0/16B3748`. */
export function formatLsn(lsn: bigint): string {
  if (lsn < 0n || lsn > 0xffff_ffff_ffff_ffffn) throw new Error(`LSN out of range: ${lsn}`);
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffff_ffffn).toString(16).toUpperCase()}`;
}

/** Rewrites any accepted LSN spelling (e.g. the zero-padded `00000000/016B3748`) canonically. */
export function normalizeLsn(lsn: string): string {
  return formatLsn(parseLsn(lsn));
}

/** A position covering a whole transaction. */
export function wholeTxnPosition(commitLsn: string, commitEndLsn: string): PgPosition {
  return { kind: 'pg', lsn: normalizeLsn(commitLsn), ackLsn: normalizeLsn(commitEndLsn) };
}

/** A position that includes nothing committed at or after `lsn` (a slot's consistent point). */
export function boundaryPosition(lsn: string): PgPosition {
  const canonical = normalizeLsn(lsn);
  return { kind: 'pg', lsn: canonical, ackLsn: canonical, seq: 0 };
}

/** Orders positions: by commit LSN, then by how much of that transaction is included (whole = all). */
export function comparePgPositions(a: PgPosition, b: PgPosition): number {
  const la = parseLsn(a.lsn);
  const lb = parseLsn(b.lsn);
  if (la !== lb) return la < lb ? -1 : 1;
  const sa = a.seq ?? Number.POSITIVE_INFINITY;
  const sb = b.seq ?? Number.POSITIVE_INFINITY;
  return sa === sb ? 0 : sa < sb ? -1 : 1;
}

/** Narrows a `Position` to a `PgPosition`, refusing positions of another connector. */
export function asPgPosition(position: Position): PgPosition {
  if (position.kind !== 'pg') throw new Error(`expected a PostgreSQL position, got a ${position.kind} position`);
  return position;
}

/** The position streaming resumes after: the checkpoint's, or the snapshot's start while it runs. */
export function streamPosition(checkpoint: Checkpoint): PgPosition | null {
  if (checkpoint.position !== null) return asPgPosition(checkpoint.position);
  if (checkpoint.snapshot !== undefined) return asPgPosition(checkpoint.snapshot.startPosition);
  return null;
}

/**
 * The WAL location up to which `position` includes every commit: the commit end of a whole
 * transaction, the commit LSN itself for a split one or a boundary (nothing at it is included).
 */
export function coveredLsn(position: PgPosition): bigint {
  return position.seq === undefined ? parseLsn(position.ackLsn) : parseLsn(position.lsn);
}

/** WAL bytes between what `checkpoint` covers and `current` (0 when caught up). */
export function pgLagBytes(checkpoint: Checkpoint, current: Position): number | null {
  const at = streamPosition(checkpoint);
  if (at === null) return null;
  const diff = parseLsn(asPgPosition(current).lsn) - coveredLsn(at);
  return diff > 0n ? Number(diff) : 0;
}

/** True when every commit before `target` (a `currentPosition()`, i.e. a WAL end) is in `checkpoint`. */
export function pgReached(checkpoint: Checkpoint, target: Position): boolean {
  if (checkpoint.snapshot !== undefined && checkpoint.snapshot.tables.some((t) => !t.done)) return false;
  const at = streamPosition(checkpoint);
  return at !== null && coveredLsn(at) >= parseLsn(asPgPosition(target).lsn);
}

/** For status lines: `0/16B3748`, or `0/16B3748#120` for a transaction split across batches. */
export function describePgPosition(position: Position): string {
  const p = asPgPosition(position);
  if (p.seq === 0) return p.lsn;
  return p.seq === undefined ? p.lsn : `${p.lsn}#${p.seq}`;
}
