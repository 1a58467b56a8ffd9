import type { MysqlPosition, Position } from '../../model/position.js';

/**
 * MySQL/MariaDB positions. A `MysqlPosition` is the binlog offset right AFTER the last whole
 * transaction (its XID/COMMIT event's end), so resuming there replays nothing already loaded;
 * `seq: n` adds "and the first n change events of the transaction starting at that offset".
 *
 * Order: binlog file index (the numeric extension, `mysql-bin.000012` → 12), then offset, then
 * `seq` (absent = 0). Files of different base names cannot be ordered. GTIDs are informational
 * and do not take part in ordering (see mysql-gtid.ts for their structural compare).
 */

/** The event-position text of a transaction starting at `file:pos`, as stored in `__position`. */
export function formatEventPosition(file: string, pos: number): string {
  return `${file}:${pos}`;
}

/** Parses `file:pos[#seq]` (what `describe` prints without the GTID) back into a position. */
export function parseMysqlPosition(text: string): MysqlPosition {
  const m = /^(.+):(\d+)(?:#(\d+))?$/.exec(text.trim());
  if (m === null) throw new Error(`not a binlog position (file:pos): ${JSON.stringify(text)}`);
  const position: MysqlPosition = { kind: 'mysql', file: m[1]!, pos: Number(m[2]) };
  if (m[3] !== undefined && Number(m[3]) > 0) position.seq = Number(m[3]);
  return position;
}

/** `mysql-bin.000003:1234`, `…#5` inside a split transaction, ` (gtid 0-1-7)` when known. */
export function formatMysqlPosition(p: MysqlPosition): string {
  const seq = p.seq !== undefined && p.seq > 0 ? `#${p.seq}` : '';
  const gtid = p.gtid !== undefined && p.gtid !== '' ? ` (gtid ${p.gtid})` : '';
  return `${p.file}:${p.pos}${seq}${gtid}`;
}

/** Splits `mysql-bin.000012` into base name and index. */
export function binlogFileIndex(file: string): { base: string; index: number } {
  const m = /^(.*)\.(\d+)$/.exec(file);
  if (m === null) throw new Error(`not a binlog file name: ${JSON.stringify(file)}`);
  return { base: m[1]!, index: Number(m[2]) };
}

/** -1, 0 or 1. Throws for positions of different binlog base names. */
export function compareMysqlPositions(a: MysqlPosition, b: MysqlPosition): -1 | 0 | 1 {
  const fa = binlogFileIndex(a.file);
  const fb = binlogFileIndex(b.file);
  if (fa.base !== fb.base) {
    throw new Error(`binlog positions of different servers or log names cannot be ordered: ${a.file} vs ${b.file}`);
  }
  return sign(fa.index - fb.index) || sign(a.pos - b.pos) || sign((a.seq ?? 0) - (b.seq ?? 0));
}

/** True when both name the same place in the stream (file, offset and seq; the GTID is ignored). */
export function samePosition(a: MysqlPosition, b: MysqlPosition): boolean {
  return a.file === b.file && a.pos === b.pos && (a.seq ?? 0) === (b.seq ?? 0);
}

/** Narrows a `Position` to MySQL, failing loudly on a position of another source. */
export function asMysqlPosition(p: Position): MysqlPosition {
  if (p.kind !== 'mysql') throw new Error(`expected a MySQL binlog position, got a ${p.kind} position`);
  return p;
}

/** Bytes between two positions in the same file; null across files (sizes of the files between are unknown). */
export function binlogBytesBetween(from: MysqlPosition, to: MysqlPosition): number | null {
  if (from.file !== to.file) return null;
  return Math.max(0, to.pos - from.pos);
}

function sign(n: number): -1 | 0 | 1 {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}
