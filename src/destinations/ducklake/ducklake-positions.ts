import type { Checkpoint } from '../../model/checkpoint.js';
import type { Position } from '../../model/position.js';
import { asMysqlPosition, compareMysqlPositions, formatMysqlPosition, parseMysqlPosition } from '../../sources/mysql/mysql-position.js';
import { asPgPosition, comparePgPositions, describePgPosition, normalizeLsn } from '../../sources/postgres/postgres-position.js';

/** The forms `--as-of-position` accepts, for error messages. */
export const POSITION_FORMS = 'a PostgreSQL LSN (e.g. 0/16B3748) or a MySQL/MariaDB binlog position file:offset (e.g. mysql-bin.000003:1234)';

/**
 * Parses a position a user typed (what `ducktail status` shows): an LSN `X/Y`, or a binlog
 * `file:offset[#seq]`, optionally followed by ` (gtid …)` as status prints it. An LSN means every
 * transaction committed at or before it; null when the text is neither.
 */
export function parseUserPosition(text: string): Position | null {
  const t = text.trim();
  if (/^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/.test(t)) {
    const lsn = normalizeLsn(t);
    return { kind: 'pg', lsn, ackLsn: lsn };
  }
  try {
    const p = parseMysqlPosition(t.replace(/\s*\(gtid [^)]*\)$/, ''));
    return /\.\d+$/.test(p.file) ? p : null;
  } catch {
    return null;
  }
}

/** Orders two positions of one source (by their connector's rule); throws for different kinds. */
export function comparePositions(a: Position, b: Position): number {
  if (a.kind === 'pg') return comparePgPositions(a, asPgPosition(b));
  return compareMysqlPositions(a, asMysqlPosition(b));
}

/** The text `ducktail status` shows for a position. */
export function describePosition(p: Position): string {
  return p.kind === 'pg' ? describePgPosition(p) : formatMysqlPosition(p);
}

/**
 * What a lake commit records of the checkpoint it writes (DuckLake's `commit_extra_info`, JSON):
 * the pipeline, the position as status shows it, and the position itself (machine-comparable:
 * the LSN; the binlog file, offset and GTID set). `position` is null while the initial snapshot
 * runs: such a commit is not the state of the source at any one position.
 */
export interface CommitPositionInfo {
  pipeline: string;
  position: Position | null;
  text: string | null;
}

export function commitPositionInfo(pipeline: string, checkpoint: Checkpoint): CommitPositionInfo {
  const settled = checkpoint.snapshot === undefined || checkpoint.snapshot.tables.every((t) => t.done);
  const position = settled ? checkpoint.position : null;
  return { pipeline, position, text: position === null ? null : describePosition(position) };
}
