import type { Pgoutput } from 'pg-logical-replication';
import type { ChangeEvent } from '../../model/change-event.js';
import type { BatchLimits } from '../../model/pipeline-spec.js';
import type { PgPosition } from '../../model/position.js';
import type { BatchSink, CaptureContext } from '../source-connector.js';
import type { PgTable } from './postgres-catalog.js';
import { commitTimeIso, tupleValues } from './postgres-pgoutput.js';
import { boundaryPosition, comparePgPositions, normalizeLsn, wholeTxnPosition } from './postgres-position.js';
import type { SchemaTracker } from './postgres-schemas.js';
import type { PgReplicationStream } from './postgres-stream.js';

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
}

export function newCursor(ackLsn: string): StreamCursor {
  return { txn: null, handedOut: null, lastAck: ackLsn, relations: new Map() };
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
}

const POLL_MS = 1_000;
/** A batch with changes closes once the stream has been quiet this long between transactions. */
const QUIET_MS = 100;

/**
 * Reads stream events after `from` into the sink until the batch is full (at a transaction
 * boundary, or mid-transaction once that transaction alone reaches the limits), `maxWaitMs` after
 * the first event, or `idleWaitMs` without one. Returns the position right after the last thing read.
 */
export async function captureStream(input: StreamCaptureInput): Promise<{ to: PgPosition; schemaChanges: string[] }> {
  const { stream, cursor, from, sink, limits, ctx } = input;
  const schemaChanges: string[] = [];
  const started = Date.now();
  let to = from;
  // Mutable batch state in one object: the `write` closure updates it.
  const batch = { written: 0, firstAt: null as number | null, txnWritten: 0, txnBytesAt: sink.bytes };
  const full = (): boolean => batch.written >= limits.maxRows || sink.bytes >= limits.maxBytes;

  const write = async (table: PgTable, op: ChangeEvent['op'], values: () => (string | null | undefined)[]): Promise<boolean> => {
    const txn = cursor.txn;
    if (txn === null) throw new Error('pgoutput change outside a transaction');
    const pos: PgPosition = { kind: 'pg', lsn: txn.commitLsn, ackLsn: cursor.lastAck, seq: ++txn.seq };
    // Already loaded (the server resends from the slot's older confirmed LSN): skip, without converting.
    if (comparePgPositions(pos, from) <= 0) return false;
    schemaChanges.push(...input.schemas.declare(sink, table.schema));
    const base = { table: table.schema.table, position: txn.commitLsn, commitTs: txn.commitTs, seq: txn.seq - 1 };
    await sink.write(op === 'truncate' ? { ...base, op } : { ...base, op, values: values() });
    batch.written++;
    batch.txnWritten++;
    batch.firstAt ??= Date.now();
    cursor.handedOut = pos;
    to = pos;
    return batch.txnWritten >= limits.maxRows || sink.bytes - batch.txnBytesAt >= limits.maxBytes;
  };

  stream.requestKeepalive();
  for (;;) {
    if (ctx.signal.aborted) break;
    const now = Date.now();
    const deadline = batch.firstAt === null ? started + limits.idleWaitMs : batch.firstAt + limits.maxWaitMs;
    // Transactions arrive whole and quickly: outside one, stop at the deadline or when full.
    if (cursor.txn === null && (now >= deadline || full())) break;
    const between = cursor.txn === null;
    const item = await stream.next(between ? Math.min(batch.firstAt === null ? POLL_MS : QUIET_MS, Math.max(1, deadline - now)) : POLL_MS);
    if (item === null) {
      if (between && batch.firstAt !== null) break; // the backlog is drained: load what we have
      continue;
    }
    if (item.kind === 'keepalive') {
      // Outside a transaction, everything committed before the server's decoded WAL end was sent.
      const boundary = boundaryPosition(item.walEnd);
      if (cursor.txn === null && comparePgPositions(boundary, to) > 0) to = boundary;
      continue;
    }
    const msg = item.message;
    let split = false;
    switch (msg.tag) {
      case 'begin':
        cursor.txn = { commitLsn: normalizeLsn(msg.commitLsn ?? '0/0'), commitTs: commitTimeIso(msg.commitTime as unknown as bigint), seq: 0 };
        batch.txnWritten = 0;
        batch.txnBytesAt = sink.bytes;
        break;
      case 'commit': {
        const whole = wholeTxnPosition(msg.commitLsn ?? '0/0', msg.commitEndLsn ?? '0/0');
        cursor.txn = null;
        cursor.lastAck = whole.ackLsn;
        if (comparePgPositions(whole, to) > 0) to = whole;
        break;
      }
      case 'relation':
        cursor.relations.set(msg.relationOid, await input.resolve(msg));
        break;
      case 'insert':
      case 'update':
      case 'delete': {
        const table = cursor.relations.get(msg.relation.relationOid);
        if (table === null || table === undefined) break;
        const tuple = msg.tag === 'delete' ? (msg.old ?? msg.key) : msg.new;
        split = await write(table, msg.tag, () => tupleValues(table, tuple));
        break;
      }
      case 'truncate':
        for (const rel of msg.relations) {
          const table = cursor.relations.get(rel.relationOid);
          if (table !== null && table !== undefined) split = (await write(table, 'truncate', () => [])) || split;
        }
        break;
      default:
        break;
    }
    if (split) break;
  }
  return { to, schemaChanges };
}
