import type { Connection } from 'mysql2/promise';
import type { TypeCast } from 'mysql2';
import type { Checkpoint, TableSnapshotProgress } from '../../model/checkpoint.js';
import type { MysqlPosition } from '../../model/position.js';
import type { BatchSink, CaptureContext, CaptureOutcome } from '../source-connector.js';
import { coreOf, quoteIdent, quoteTable, queryRows, readBinlogEnd } from './mysql-client.js';
import { asMysqlPosition, formatEventPosition } from './mysql-position.js';
import type { MappedTable, ValueKind } from './mysql-types.js';
import { fromSnapshot } from './mysql-values.js';

/**
 * Opens a consistent-snapshot transaction on `conn` and returns the binlog position it matches.
 * MariaDB reports that position without any lock (`binlog_snapshot_file/position`). MySQL needs
 * a brief `FLUSH TABLES WITH READ LOCK` (RELOAD privilege); without it the position is read just
 * before the snapshot, so `consistent` is false and streaming replays the gap (MERGE converges).
 */
export async function beginSnapshot(conn: Connection, mariadb: boolean): Promise<{ start: MysqlPosition; consistent: boolean }> {
  await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
  if (mariadb) {
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    const rows = await queryRows<{ Variable_name: string; Value: string }>(conn, "SHOW STATUS LIKE 'binlog_snapshot_%'");
    const v = Object.fromEntries(rows.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
    if (v.binlog_snapshot_file !== undefined && v.binlog_snapshot_file !== '') {
      return { start: { kind: 'mysql', file: v.binlog_snapshot_file, pos: Number(v.binlog_snapshot_position) }, consistent: true };
    }
  }
  try {
    await conn.query('FLUSH TABLES WITH READ LOCK');
  } catch {
    const start = await readBinlogEnd(conn);
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    return { start, consistent: false };
  }
  try {
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    return { start: await readBinlogEnd(conn), consistent: true };
  } finally {
    await conn.query('UNLOCK TABLES');
  }
}

/** Raw text-protocol bytes per field (exact text), geometry decoded to the shape zongji produces. */
const rawValues: TypeCast = (field) => (field.type === 'GEOMETRY' ? field.geometry() : field.buffer());

/**
 * Copies the next chunk of one table: keyset pagination on the primary key
 * (`WHERE (k1, k2) > (last)` spelled out so the range optimiser uses the index), or
 * LIMIT/OFFSET for a table without one (stable only inside the consistent snapshot).
 * ENUM/SET key columns page by label text while MySQL orders them by index: not supported.
 */
export async function readChunk(
  conn: Connection,
  mapped: MappedTable,
  progress: TableSnapshotProgress,
  chunkRows: number,
  position: string,
  sink: BatchSink,
  heartbeat: () => void,
): Promise<TableSnapshotProgress> {
  const { schema, kinds } = mapped;
  const pk = schema.primaryKey;
  const pkIdx = pk.map((k) => schema.columns.findIndex((c) => c.name === k));
  const params: unknown[] = [];
  let sql = `SELECT ${schema.columns.map((c) => quoteIdent(c.name)).join(', ')} FROM ${quoteTable(schema.table)}`;
  if (pk.length > 0) {
    const last = progress.lastKey;
    if (last !== undefined && last.length === pk.length) {
      const ors = pk.map((_, i) => {
        const eqs = pk.slice(0, i).map((k, j) => {
          params.push(keyParam(kinds[pkIdx[j]!]!, last[j]!));
          return `${quoteIdent(k)} = ?`;
        });
        params.push(keyParam(kinds[pkIdx[i]!]!, last[i]!));
        return `(${[...eqs, `${quoteIdent(pk[i]!)} > ?`].join(' AND ')})`;
      });
      sql += ` WHERE ${ors.join(' OR ')}`;
    }
    sql += ` ORDER BY ${pk.map(quoteIdent).join(', ')} LIMIT ${chunkRows}`;
  } else {
    sql += ` LIMIT ${chunkRows} OFFSET ${progress.rows}`;
  }
  const rows = coreOf(conn).query({ sql, values: params, rowsAsArray: true, typeCast: rawValues }).stream();
  let count = 0;
  let lastKey = progress.lastKey;
  for await (const raw of rows as AsyncIterable<unknown[]>) {
    const values = kinds.map((k, i) => fromSnapshot(k, raw[i]));
    await sink.write({ op: 'snapshot', table: schema.table, position, commitTs: null, seq: progress.rows + count, values });
    if (++count % 1000 === 0) heartbeat();
    if (pk.length > 0) lastKey = pkIdx.map((i) => values[i] ?? null);
  }
  const next: TableSnapshotProgress = { table: progress.table, done: count < chunkRows, rows: progress.rows + count };
  if (lastKey !== undefined) next.lastKey = lastKey;
  return next;
}

/** Staged key text back to a value MySQL compares like the column. */
function keyParam(kind: ValueKind, text: string | null): unknown {
  if (text === null) return null;
  if (kind === 'binary') return Buffer.from(text, 'hex');
  if (kind === 'timestamp') return text.replace(/\+00$/, '');
  if (kind === 'set') return (JSON.parse(text) as string[]).join(',');
  if (kind === 'bit') return BigInt(text); // compared as a number, not as text
  return text;
}

/**
 * One snapshot batch: the next chunk of the first unfinished table (empty tables are finished
 * on the way). When every table is done the checkpoint moves to the snapshot's start position.
 */
export async function captureSnapshot(
  from: Checkpoint,
  conn: Connection,
  inSnapshot: boolean,
  tableSchema: (table: string) => Promise<MappedTable | undefined>,
  chunkRows: number,
  sink: BatchSink,
  ctx: CaptureContext,
): Promise<CaptureOutcome> {
  const snap = from.snapshot!;
  const start = asMysqlPosition(snap.startPosition);
  const progress = { ...snap, tables: snap.tables.map((t) => ({ ...t })), consistent: snap.consistent && inSnapshot };
  for (const [i, t] of progress.tables.entries()) {
    if (t.done) continue;
    if (ctx.signal.aborted) break;
    ctx.heartbeat();
    const mapped = await tableSchema(t.table);
    if (mapped === undefined) {
      progress.tables[i] = { ...t, done: true }; // dropped since planned: streaming tells the rest
      continue;
    }
    sink.setSchema(mapped.schema);
    const next = await readChunk(conn, mapped, t, chunkRows, formatEventPosition(start.file, start.pos), sink, () => ctx.heartbeat());
    progress.tables[i] = next;
    if (next.rows > t.rows) break;
  }
  if (progress.tables.every((t) => t.done)) return { to: { position: start, batchId: from.batchId }, schemaChanges: [] };
  return { to: { position: null, batchId: from.batchId, snapshot: progress }, schemaChanges: [] };
}
