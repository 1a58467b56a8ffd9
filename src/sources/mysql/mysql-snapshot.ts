import type { Connection } from 'mysql2/promise';
import type { TypeCast } from 'mysql2';
import type { SnapshotProgress, TableSnapshotProgress } from '../../model/checkpoint.js';
import type { MysqlPosition } from '../../model/position.js';
import type { SnapshotBudget } from '../batch-rules.js';
import type { ChunkRows } from '../backfill.js';
import type { SchemaTracker } from '../schema-tracker.js';
import type { BatchSink, CaptureContext } from '../source-connector.js';
import { coreOf, quoteIdent, quoteTable, queryRows, readBinlogEnd } from './mysql-connection.js';
import { asMysqlPosition, formatEventPosition } from './mysql-position.js';
import type { MappedTable, ValueKind } from './mysql-types.js';
import { fromSnapshot, snapshotColumn } from './mysql-values.js';

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

export interface SnapshotChunkInput {
  /** The connection holding the consistent-snapshot transaction. */
  conn: Connection;
  progress: SnapshotProgress;
  sink: BatchSink;
  budget: SnapshotBudget;
  schemas: SchemaTracker;
  /** The shape a table is copied under (see `MysqlSource`), undefined when it no longer exists. */
  shapeOf(table: string): Promise<MappedTable | undefined>;
  ctx: CaptureContext;
}

/**
 * Copies the next rows of the first unfinished tables inside the consistent snapshot, as far as
 * the budget allows, and returns the updated progress. Tables dropped since the plan are
 * finished: the stream tells the rest.
 */
export async function copySnapshotChunk(input: SnapshotChunkInput): Promise<{ progress: SnapshotProgress; schemaChanges: string[] }> {
  const progress: SnapshotProgress = structuredClone(input.progress);
  const schemaChanges: string[] = [];
  const start = asMysqlPosition(progress.startPosition);
  for (const [i, t] of progress.tables.entries()) {
    if (t.done) continue;
    if (input.ctx.signal.aborted || input.budget.exhausted()) break;
    const mapped = await input.shapeOf(t.table);
    if (mapped === undefined) {
      progress.tables[i] = { ...t, done: true };
      continue;
    }
    schemaChanges.push(...input.schemas.declare(input.sink, mapped.schema));
    const next = await readChunk(input, mapped, t, formatEventPosition(start.file, start.pos));
    input.budget.copied(next.rows - t.rows);
    progress.tables[i] = next;
  }
  return { progress, schemaChanges };
}

/**
 * Copies the next rows of one table, at most `budget.rowsLeft()`: keyset pagination on the primary
 * key (`WHERE (k1, k2) > (last)` spelled out so the range optimiser uses the index), or
 * LIMIT/OFFSET for a table without one (stable only inside the consistent snapshot). Rows past
 * the byte budget are read to the end of the result but not written (the next batch reads them again).
 * ENUM/SET key columns page by label text while MySQL orders them by index: not supported.
 */
async function readChunk(input: SnapshotChunkInput, mapped: MappedTable, progress: TableSnapshotProgress, position: string): Promise<TableSnapshotProgress> {
  const { schema, kinds } = mapped;
  const { sink, budget } = input;
  const limit = budget.rowsLeft();
  const pk = schema.primaryKey;
  const pkIdx = pk.map((k) => schema.columns.findIndex((c) => c.name === k));
  const params: unknown[] = [];
  let sql = `SELECT ${schema.columns.map((c, i) => snapshotColumn(kinds[i]!, quoteIdent(c.name))).join(', ')} FROM ${quoteTable(schema.table)}`;
  if (pk.length > 0) {
    sql += `${afterKey(mapped, progress.lastKey, params)} ORDER BY ${pk.map(quoteIdent).join(', ')} LIMIT ${limit}`;
  } else {
    sql += ` LIMIT ${limit} OFFSET ${progress.rows}`;
  }
  const rows = coreOf(input.conn).query({ sql, values: params, rowsAsArray: true, typeCast: rawValues }).stream();
  let received = 0;
  let written = 0;
  let stopped = false;
  let lastKey = progress.lastKey;
  for await (const raw of rows as AsyncIterable<unknown[]>) {
    received++;
    // Over the byte budget: the rest of the result is drained, unwritten (a query cannot be cut short safely).
    stopped ||= budget.overBytes() || input.ctx.signal.aborted;
    if (stopped) continue;
    const values = kinds.map((k, i) => fromSnapshot(k, raw[i]));
    await sink.write({ op: 'snapshot', table: schema.table, position, commitTs: null, seq: progress.rows + written, values });
    written++;
    if (pk.length > 0) lastKey = pkIdx.map((i) => values[i] ?? null);
  }
  const next: TableSnapshotProgress = { table: progress.table, done: !stopped && received < limit, rows: progress.rows + written };
  if (lastKey !== undefined) next.lastKey = lastKey;
  return next;
}

/**
 * ` WHERE (k1, k2) > (last)`, spelled out so the range optimiser uses the index; '' before the
 * first key. Pushes the parameters.
 */
function afterKey({ schema, kinds }: MappedTable, last: (string | null)[] | undefined, params: unknown[]): string {
  const pk = schema.primaryKey;
  if (last === undefined || last.length !== pk.length) return '';
  const pkIdx = pk.map((k) => schema.columns.findIndex((c) => c.name === k));
  const ors = pk.map((_, i) => {
    const eqs = pk.slice(0, i).map((k, j) => {
      params.push(keyParam(kinds[pkIdx[j]!]!, last[j]!));
      return `${quoteIdent(k)} = ?`;
    });
    params.push(keyParam(kinds[pkIdx[i]!]!, last[i]!));
    return `(${[...eqs, `${quoteIdent(pk[i]!)} > ?`].join(' AND ')})`;
  });
  return ` WHERE ${ors.join(' OR ')}`;
}

/**
 * The next rows of a table after `lastKey` in primary-key order (an incremental copy's chunk, see
 * src/sources/backfill.ts), read now in their own statement, as the stream's events carry them.
 */
export async function readBackfillChunk(
  conn: Connection,
  mapped: MappedTable,
  lastKey: (string | null)[] | undefined,
  limit: number,
  /** Only these keys (a repair), all in one chunk. */
  keys?: string[][],
): Promise<ChunkRows> {
  const { schema, kinds } = mapped;
  const pk = schema.primaryKey;
  const pkIdx = pk.map((k) => schema.columns.findIndex((c) => c.name === k));
  const params: unknown[] = [];
  const listed = keys === undefined || keys.length === 0 ? null : keys;
  let where: string;
  if (listed === null) where = afterKey(mapped, lastKey, params);
  else {
    for (const k of listed) k.forEach((v, j) => params.push(keyParam(kinds[pkIdx[j]!]!, v)));
    where = ` WHERE (${pk.map(quoteIdent).join(', ')}) IN (${listed.map(() => `(${pk.map(() => '?').join(', ')})`).join(', ')})`;
  }
  const sql =
    `SELECT ${schema.columns.map((c, i) => snapshotColumn(kinds[i]!, quoteIdent(c.name))).join(', ')} FROM ${quoteTable(schema.table)}` +
    `${where} ORDER BY ${pk.map(quoteIdent).join(', ')}${listed === null ? ` LIMIT ${limit}` : ''}`;
  const [raw] = await coreOf(conn).promise().query({ sql, values: params, rowsAsArray: true, typeCast: rawValues });
  const rows = (raw as unknown[][]).map((r) => kinds.map((k, i) => fromSnapshot(k, r[i])));
  const last = rows.at(-1);
  const chunk: ChunkRows = { schema, rows, lastKey: last === undefined ? lastKey : pkIdx.map((i) => last[i] ?? null), last: listed !== null || rows.length < limit };
  if (lastKey === undefined && listed === null) {
    const dot = schema.table.indexOf('.');
    const est = await queryRows<{ n: number | string | null }>(conn, 'SELECT TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [
      schema.table.slice(0, dot),
      schema.table.slice(dot + 1),
    ]);
    chunk.estimate = Math.max(Number(est[0]?.n ?? 0), rows.length);
  }
  return chunk;
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
