import type { Pgoutput } from 'pg-logical-replication';
import type { ChangeEvent } from '../../model/change-event.js';
import type { BatchLimits } from '../../model/pipeline-spec.js';
import type { PgPosition } from '../../model/position.js';
import type { TableSchema } from '../../model/table-schema.js';
import { parseWatermark, WATERMARK_PREFIX, type ChunkTracker } from '../backfill.js';
import { BatchRules } from '../batch-rules.js';
import type { BatchSink, CaptureContext } from '../source-connector.js';
import type { PgTable } from './postgres-catalog.js';
import { parseDdlMessage, type DdlMessage } from './postgres-ddl.js';
import { commitTimeIso, tupleValues } from './postgres-decoder.js';
import { boundaryPosition, comparePgPositions, normalizeLsn, parseLsn, wholeTxnPosition } from './postgres-position.js';
import type { SchemaTracker } from '../schema-tracker.js';
import type { PgReplicationStream, StreamItem } from './postgres-stream.js';

type EventValues = { values: (string | null | undefined)[]; oldKey?: (string | null)[] };

/**
 * A row message's values; for an update that changed the primary key (pgoutput then sends the old
 * key, or the whole old row under REPLICA IDENTITY FULL), the old key too.
 */
function eventValues(table: PgTable, msg: Pgoutput.MessageInsert | Pgoutput.MessageUpdate | Pgoutput.MessageDelete): EventValues {
  if (msg.tag === 'delete') return { values: tupleValues(table, msg.old ?? msg.key) };
  const values = tupleValues(table, msg.new);
  const before = msg.tag === 'update' ? (msg.key ?? msg.old) : null;
  if (before === null || table.schema.primaryKey.length === 0) return { values };
  const old = tupleValues(table, before);
  const keys = table.schema.primaryKey.map((k) => table.schema.columns.findIndex((c) => c.name === k));
  const oldKey = keys.map((i) => old[i] ?? null);
  const changed = keys.some((i, j) => values[i] !== undefined && values[i] !== oldKey[j]);
  return changed ? { values, oldKey } : { values };
}

/** Where an open stream is: kept across captures so the next batch continues without reconnecting. */
export interface StreamCursor {
  /** The transaction being read (its events counted in `seq`, written or skipped). */
  txn: { commitLsn: string; commitTs: string; seq: number } | null;
  /** The last event handed to a sink since the stream opened. */
  handedOut: PgPosition | null;
  /** End LSN of the last whole transaction read: what a split position may acknowledge. */
  lastAck: string;
  /** Captured relations by OID (null: not selected); filled from relation messages. */
  relations: Map<number, PgTable | null>;
  /**
   * A message read but left for the next batch (it changes the schema of a table this batch
   * wrote); `relation` is the first relation of a multi-table TRUNCATE still to write.
   */
  pending: { message: Pgoutput.Message; relation: number } | null;
  /** The latest shape the DDL trigger reported per table OID (see postgres-ddl.ts). */
  ddl: Map<number, DdlMessage>;
}

export function newCursor(ackLsn: string): StreamCursor {
  return { txn: null, handedOut: null, lastAck: ackLsn, relations: new Map(), pending: null, ddl: new Map() };
}

export interface StreamCaptureInput {
  stream: PgReplicationStream;
  cursor: StreamCursor;
  from: PgPosition;
  sink: BatchSink;
  limits: BatchLimits;
  ctx: CaptureContext;
  schemas: SchemaTracker;
  /** The staged shape for a relation message, or null when the table is not captured. */
  resolve(relation: Pgoutput.MessageRelation): Promise<PgTable | null>;
  /** Called for every event written, with the shape it was written under. */
  told?(schema: TableSchema): void;
  /** The staged shape a DDL message describes, or null when the table is not captured. */
  resolveDdl?(ddl: DdlMessage): Promise<PgTable | null>;
  /** The incremental copy's chunk in flight, if any (see src/sources/backfill.ts). */
  chunks?: ChunkTracker;
  /** The shape to write a chunk's rows under when the stream has none of the table. */
  chunkTable?: PgTable;
}

/** What writing one event did (see `captureStream`). */
type Written = 'ok' | 'skipped' | 'split' | 'full';

/**
 * Reads stream events after `from` into the sink until `BatchRules` close the batch. Returns the
 * position right after the last thing read.
 */
export async function captureStream(input: StreamCaptureInput): Promise<{ to: PgPosition; schemaChanges: string[] }> {
  const { stream, cursor, from, sink, limits, ctx } = input;
  const schemaChanges: string[] = [];
  const rules = new BatchRules(limits, sink);
  let to = from;
  // Whether an event comes after `from`, decided once per transaction but for the one `from` is in (LSNs parse slowly).
  let txnOrder: { lsn: string; order: number } | null = null;
  const afterFrom = (pos: PgPosition): boolean => {
    if (txnOrder?.lsn !== pos.lsn) txnOrder = { lsn: pos.lsn, order: comparePgPositions({ ...pos, seq: 0 }, { ...from, seq: 0 }) };
    return txnOrder.order === 0 ? comparePgPositions(pos, from) > 0 : txnOrder.order > 0;
  };

  /**
   * Writes one event. `skipped`: at or before `from`; `split`: not written, the batch ends before
   * it (it changes the schema of a table this batch wrote); `full`: written, and its transaction
   * alone has reached the limits.
   */
  // Synchronous unless the sink pushes back: a promise per event costs more than the event.
  const write = (table: PgTable, op: ChangeEvent['op'], values: () => EventValues): Written | Promise<Written> => {
    const txn = cursor.txn;
    if (txn === null) throw new Error('pgoutput change outside a transaction');
    const pos: PgPosition = { kind: 'pg', lsn: txn.commitLsn, ackLsn: cursor.lastAck, seq: txn.seq + 1 };
    // Already loaded (the server resends from the slot's older confirmed LSN): skip, without converting.
    if (!afterFrom(pos)) {
      txn.seq++;
      return 'skipped';
    }
    if (!sink.accepts(table.schema)) return 'split';
    txn.seq++;
    schemaChanges.push(...input.schemas.declare(sink, table.schema));
    input.told?.(table.schema);
    const base = { table: table.schema.table, position: txn.commitLsn, commitTs: txn.commitTs, seq: txn.seq - 1 };
    let staged;
    if (op === 'truncate') staged = sink.write({ ...base, op });
    else {
      const { values: row, oldKey } = values();
      staged = sink.write(oldKey === undefined ? { ...base, op, values: row } : { ...base, op, values: row, oldKey });
    }
    const written = (): Written => {
      cursor.handedOut = pos;
      to = pos;
      return rules.wrote() ? 'full' : 'ok';
    };
    return staged === undefined ? written() : staged.then(written);
  };

  const chunks = input.chunks;
  /** The table's shape in this stream, when a relation message brought one. */
  const streamTable = (name: string): PgTable | undefined => {
    for (const t of cursor.relations.values()) if (t?.schema.table === name) return t;
    return undefined;
  };
  /**
   * A watermark: the low one opens the chunk's window, the high one writes the rest of the chunk
   * at its own position. Returns 'split' when the rows must wait for the next batch.
   */
  const watermark = async (content: string): Promise<'ok' | 'split'> => {
    const w = parseWatermark(content);
    const window = chunks?.window ?? null;
    if (w === null || window === null || w.chunk !== window.id) return 'ok'; // another chunk's, or a lost one's
    if (w.mark === 'low') {
      window.low(sink);
      return 'ok';
    }
    // The stream's shape of the table, unless it is older than the chunk: a change of shape inside
    // the window ended the window above, so a stream shape that differs from the chunk's came
    // before the low watermark, and no row of the table has brought the new one since (an ALTER
    // that rewrote the table without change events). The chunk was read under the shape it has.
    const names = (t: TableSchema): string => JSON.stringify(t.columns.map((c) => c.name));
    const fits = (t: PgTable | undefined): t is PgTable => t !== undefined && names(t.schema) === names(window.chunk.schema);
    const inStream = streamTable(window.table);
    const shape = fits(inStream) ? inStream : input.chunkTable;
    if (!fits(shape)) {
      if (chunks !== undefined) chunks.window = null; // the table changed shape meanwhile: read the chunk again
      return 'ok';
    }
    if (!sink.accepts(shape.schema)) return 'split';
    for (const row of window.rows()) {
      const outcome = await write(shape, 'snapshot', () => ({ values: row }));
      if (outcome === 'skipped' || outcome === 'split') throw new Error(`${window.table}: a copied row could not be written at its watermark (${outcome})`);
    }
    for (const values of window.gone()) {
      const outcome = await write(shape, 'delete', () => ({ values }));
      if (outcome === 'skipped' || outcome === 'split') throw new Error(`${window.table}: a repaired key could not be deleted at its watermark (${outcome})`);
    }
    if (window.endsCopy) {
      const txn = cursor.txn;
      sink.endBackfill(window.table, shape.schema.primaryKey, txn?.commitLsn ?? to.lsn, txn?.commitTs ?? null);
    }
    if (chunks !== undefined) {
      chunks.done = window.done(new Date().toISOString());
      chunks.window = null;
    }
    return 'ok';
  };
  /** A change of the table being copied, while its chunk's window is open. */
  const touch = (table: PgTable, msg: Pgoutput.MessageInsert | Pgoutput.MessageUpdate | Pgoutput.MessageDelete): void => {
    const window = chunks?.window;
    if (window === undefined || window === null || !window.isOpen || window.table !== table.schema.table) return;
    const { values, oldKey } = eventValues(table, msg);
    window.touched(table.schema, values, oldKey);
  };

  stream.requestKeepalive();
  if (cursor.txn !== null) rules.begin(); // the rest of a transaction the last batch cut
  for (;;) {
    if (ctx.signal.aborted || rules.closeNow()) break;
    const pending = cursor.pending;
    cursor.pending = null;
    const item: StreamItem | null =
      pending !== null ? { kind: 'message', message: pending.message } : (stream.take() ?? (await stream.next(rules.waitMs())));
    if (item === null) {
      if (rules.drained()) break;
      continue;
    }
    if (item.kind === 'keepalive') {
      // Outside a transaction, everything committed before the server's decoded WAL end was sent.
      const boundary = boundaryPosition(item.walEnd);
      if (cursor.txn === null && comparePgPositions(boundary, to) > 0) to = boundary;
      // A checkpoint at that boundary may be acknowledged: a transaction split later must not
      // acknowledge less, or the slot would stand ahead of the loaded position.
      if (cursor.txn === null && parseLsn(boundary.ackLsn) > parseLsn(cursor.lastAck)) cursor.lastAck = boundary.ackLsn;
      continue;
    }
    const msg = item.message;
    let split = false;
    switch (msg.tag) {
      case 'begin':
        cursor.txn = { commitLsn: normalizeLsn(msg.commitLsn ?? '0/0'), commitTs: commitTimeIso(msg.commitTime as unknown as bigint), seq: 0 };
        rules.begin();
        break;
      case 'commit': {
        const whole = wholeTxnPosition(msg.commitLsn ?? '0/0', msg.commitEndLsn ?? '0/0');
        cursor.txn = null;
        rules.end();
        cursor.lastAck = whole.ackLsn;
        if (comparePgPositions(whole, to) > 0) to = whole;
        split = chunks?.done != null; // a chunk was copied: its batch ends here, the next chunk follows
        break;
      }
      case 'relation': {
        const table = await input.resolve(msg);
        cursor.relations.set(msg.relationOid, table);
        const window = chunks?.window;
        if (table !== null && window != null && window.table === table.schema.table && chunks !== undefined) {
          const names = (t: TableSchema): string => JSON.stringify(t.columns.map((c) => c.name));
          if (names(table.schema) !== names(window.chunk.schema)) chunks.window = null; // read the chunk again under the new shape
        }
        break;
      }
      case 'message': {
        if (msg.prefix === WATERMARK_PREFIX) {
          const content = Buffer.from(msg.content).toString('utf8');
          if ((await watermark(content)) === 'split') {
            cursor.pending = { message: msg, relation: 0 };
            split = true;
          }
          break;
        }
        const ddl = parseDdlMessage(msg.prefix, msg.content);
        const table = ddl === null ? null : await input.resolveDdl?.(ddl);
        if (ddl === null || table === null || table === undefined) break;
        if (sink.hasChanges(table.schema.table)) {
          cursor.pending = { message: msg, relation: 0 }; // the new shape starts the next batch
          split = true;
          break;
        }
        cursor.ddl.set(ddl.oid, ddl);
        if (chunks?.window?.table === table.schema.table) chunks.window = null; // read the chunk again under the new shape
        if ((ddl.renames ?? []).length > 0) sink.renameColumns(table.schema.table, ddl.renames ?? []);
        schemaChanges.push(...input.schemas.declare(sink, table.schema));
        sink.declareTable(table.schema);
        input.told?.(table.schema);
        break;
      }
      case 'insert':
      case 'update':
      case 'delete': {
        const table = cursor.relations.get(msg.relation.relationOid);
        if (table === null || table === undefined) break;
        touch(table, msg);
        const result = write(table, msg.tag, () => eventValues(table, msg));
        const outcome = typeof result === 'string' ? result : await result;
        if (outcome === 'split') cursor.pending = { message: msg, relation: 0 };
        split = outcome === 'split' || outcome === 'full';
        break;
      }
      case 'truncate':
        for (let r = pending?.relation ?? 0; r < msg.relations.length && !split; r++) {
          const table = cursor.relations.get(msg.relations[r]?.relationOid ?? -1);
          if (table === null || table === undefined) continue;
          if (chunks?.window?.table === table.schema.table) chunks.window.truncated();
          const outcome = await write(table, 'truncate', () => ({ values: [] })); // rare: no fast path
          if (outcome === 'split') cursor.pending = { message: msg, relation: r };
          split = outcome === 'split' || (outcome === 'full' && r === msg.relations.length - 1) || split;
          if (outcome === 'full' && r < msg.relations.length - 1) {
            cursor.pending = { message: msg, relation: r + 1 };
            split = true;
          }
        }
        break;
      default:
        break;
    }
    if (split) break;
  }
  return { to, schemaChanges };
}
