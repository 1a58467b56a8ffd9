import type { ChangeEvent } from '../../model/change-event.js';
import type { BatchLimits } from '../../model/pipeline-spec.js';
import type { MysqlPosition } from '../../model/position.js';
import type { TableSchema } from '../../model/table-schema.js';
import { WATERMARK_TABLE, type ChunkTracker } from '../backfill.js';
import { BatchRules } from '../batch-rules.js';
import type { SchemaTracker } from '../schema-tracker.js';
import type { BatchSink, CaptureContext } from '../source-connector.js';
import type { Cursor, RowItem, StreamItem, TruncateItem } from './mysql-decoder.js';
import { formatEventPosition } from './mysql-position.js';
import type { SchemaCache } from './mysql-schema-cache.js';
import type { BinlogStream } from './mysql-stream.js';
import type { MappedTable } from './mysql-types.js';
import { fromBinlog } from './mysql-values.js';

/** State that outlives one capture. */
export interface StreamCaptureState {
  stream: BinlogStream;
  /** Shapes of rows as the binlog describes them. */
  shapes: SchemaCache;
  /** The shape each table was last written with, and which ones this batch's sink was told. */
  schemas: SchemaTracker;
  /** Called for every event written, with the shape it was written under. */
  told?(schema: TableSchema): void;
  /** Called for DDL of selected tables as it streams past. */
  ddl?(tables: string[]): void;
  /** The incremental copy's chunk in flight, if any (see src/sources/backfill.ts). */
  chunks?: ChunkTracker;
}

/**
 * Moves stream items into `sink` until `BatchRules` close the batch. A transaction cut because it
 * alone reached the limits ends at `{file, pos, seq}`: the transaction's start plus the events
 * written. After `idleWaitMs` with nothing written, `to` may still have moved past other tables' changes.
 */
export async function captureStream(
  from: MysqlPosition,
  state: StreamCaptureState,
  sink: BatchSink,
  limits: BatchLimits,
  ctx: CaptureContext,
): Promise<{ to: MysqlPosition; schemaChanges: string[] }> {
  const rules = new BatchRules(limits, sink);
  const schemaChanges: string[] = [];
  let to: Cursor = { file: from.file, pos: from.pos, seq: from.seq ?? 0, gtid: from.gtid };

  const declare = (schema: TableSchema): void => {
    schemaChanges.push(...state.schemas.declare(sink, schema));
    state.told?.(schema);
  };

  const chunks = state.chunks;
  const names = (t: TableSchema): string => JSON.stringify(t.columns.map((c) => c.name));
  /**
   * A watermark row: the low one opens the chunk's window, the high one writes the rest of the
   * chunk at its own position. Returns 'split' when the rows must wait for the next batch.
   */
  const watermark = async (item: RowItem): Promise<'ok' | 'split'> => {
    const window = chunks?.window ?? null;
    const chunk = item.row.chunk;
    const mark = item.row.mark;
    if (item.op === 'delete' || window === null || chunks === undefined || chunk !== window.id) return 'ok'; // another chunk's, or a lost one's
    if (mark === 'low') {
      window.low(sink);
      return 'ok';
    }
    if (mark !== 'high') return 'ok';
    const known = state.schemas.get(window.table);
    const shape = known !== undefined && names(known) === names(window.chunk.schema) ? known : window.chunk.schema;
    if (names(shape) !== names(window.chunk.schema)) {
      chunks.window = null; // the table changed shape meanwhile: read the chunk again
      return 'ok';
    }
    if (!sink.accepts(shape)) return 'split';
    declare(shape);
    const base = { table: window.table, position: formatEventPosition(item.txnFile, item.txnPos), commitTs: isoMicros(item.tsMs) };
    let seq = item.seq;
    for (const values of window.rows()) {
      const staged = sink.write({ ...base, op: 'snapshot', seq: ++seq, values });
      if (staged !== undefined) await staged;
    }
    for (const values of window.gone()) {
      const staged = sink.write({ ...base, op: 'delete', seq: ++seq, values });
      if (staged !== undefined) await staged;
    }
    if (window.endsCopy) sink.endBackfill(window.table, shape.primaryKey, base.position, base.commitTs);
    chunks.done = window.done(new Date().toISOString());
    chunks.window = null;
    return 'ok';
  };
  /** A change of the table being copied, while its chunk's window is open. */
  const touch = async (item: RowItem): Promise<void> => {
    const window = chunks?.window;
    if (window === undefined || window === null || !window.isOpen || window.table !== item.table) return;
    const mapped = await schemaOf(item, state);
    const { columns, primaryKey } = mapped.schema;
    const values = columns.map((c, i) => fromBinlog(mapped.kinds[i]!, item.row[c.name]));
    const before = item.before;
    const oldKey = before === undefined ? undefined : primaryKey.map((k) => fromBinlog(mapped.kinds[columns.findIndex((c) => c.name === k)]!, before[k]));
    window.touched(mapped.schema, values, oldKey);
  };

  for (;;) {
    if (ctx.signal.aborted || rules.closeNow()) break;
    const item: StreamItem | null = state.stream.take() ?? (await state.stream.next(rules.waitMs(), ctx.signal));
    if (item === null) {
      if (rules.drained()) break;
      continue;
    }
    if (item.kind === 'row' && isWatermark(item.table)) {
      if ((await watermark(item)) === 'split') {
        state.stream.unread(item, to);
        break;
      }
      to = item.after;
      continue;
    }
    if (item.kind === 'ddl' && item.tables.every(isWatermark)) {
      to = item.after; // creating the watermark table
      rules.end();
      continue;
    }
    if (item.kind === 'ddl' && chunks?.window != null && item.tables.includes(chunks.window.table)) chunks.window = null; // read the chunk again under the new shape
    if (item.kind === 'truncate' && chunks?.window?.table === item.table) chunks.window.truncated();
    if (item.kind === 'row') await touch(item);
    if (item.kind === 'ddl' && item.tables.some((t) => sink.hasChanges(t))) {
      // DDL of a table this batch wrote: it starts the next batch (see BatchSink.accepts).
      state.stream.unread(item, to);
      break;
    }
    if (item.kind === 'commit' || item.kind === 'ddl') {
      if (item.kind === 'ddl') {
        state.shapes.invalidate(item.tables);
        state.ddl?.(item.tables);
        schemaChanges.push(...item.tables.map((t) => `${t}: ${item.statement}`));
        const table = item.tables[0];
        if (item.renames.length > 0 && table !== undefined) {
          sink.renameColumns(table, item.renames);
          state.schemas.rename(table, item.renames);
          schemaChanges.push(...item.renames.map((r) => `${table}: column ${r.from} renamed to ${r.to}`));
        }
      }
      to = item.after;
      rules.end();
      if (chunks?.done != null) break; // a chunk was copied: its batch ends here, the next chunk follows
      continue;
    }
    if (item.kind === 'truncate' && !state.schemas.told(sink, item.table)) {
      // A TRUNCATE carries no shape, and the one known may be newer than the stream (read from
      // the catalog after a restart): it only creates a table the destination does not have.
      const guess = await schemaOf(item, state);
      if (!sink.accepts(guess.schema)) {
        state.stream.unread(item, to);
        break;
      }
      sink.setSchema(guess.schema);
      await sink.write({
        op: 'truncate', table: item.table, position: formatEventPosition(item.txnFile, item.txnPos),
        commitTs: isoMicros(item.tsMs), seq: item.seq, shapeOnlyIfNew: true,
      });
    } else {
      const schema = item.kind === 'truncate' ? { schema: state.schemas.get(item.table)!, kinds: [] } : await schemaOf(item, state);
      if (!sink.accepts(schema.schema)) {
        state.stream.unread(item, to);
        break;
      }
      const staged = sink.write(toEvent(item, schema, declare));
      if (staged !== undefined) await staged;
    }
    to = item.after;
    // One transaction alone over the limits: cut it here, the rest follows in the next batch.
    if (rules.wrote()) break;
  }
  const position: MysqlPosition = { kind: 'mysql', file: to.file, pos: to.pos };
  if (to.gtid !== undefined) position.gtid = to.gtid;
  if (to.seq > 0) position.seq = to.seq;
  return { to: position, schemaChanges };
}

/** The schema an item is written under (a TRUNCATE carries no columns: the last one known, else the current one). */
async function schemaOf(item: RowItem | TruncateItem, state: StreamCaptureState): Promise<MappedTable> {
  if (item.kind === 'row') return state.shapes.forRow(item.table, item.entry, item.primaryKey);
  const known = state.schemas.get(item.table);
  if (known !== undefined) return { schema: known, kinds: [] };
  const mapped = await state.shapes.forTable(item.table);
  return mapped ?? { schema: { table: item.table, columns: [], primaryKey: [] }, kinds: [] };
}

function toEvent(item: RowItem | TruncateItem, mapped: MappedTable, declare: (schema: TableSchema) => void): ChangeEvent {
  const base = {
    table: item.table,
    position: formatEventPosition(item.txnFile, item.txnPos),
    commitTs: isoMicros(item.tsMs),
    seq: item.seq,
  };
  declare(mapped.schema);
  if (item.kind === 'truncate') return { ...base, op: 'truncate' };
  const columns = mapped.schema.columns;
  const values = columns.map((c, i) => fromBinlog(mapped.kinds[i]!, item.row[c.name]));
  const before = item.before;
  if (before === undefined) return { ...base, op: item.op, values };
  const oldKey = mapped.schema.primaryKey.map((k) => {
    const i = columns.findIndex((c) => c.name === k);
    return fromBinlog(mapped.kinds[i]!, before[k]);
  });
  return { ...base, op: item.op, values, oldKey };
}

/** Binlog timestamps have whole seconds; the contract wants ISO-8601 UTC with microseconds. */
function isoMicros(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function isWatermark(table: string): boolean {
  return table.slice(table.indexOf('.') + 1) === WATERMARK_TABLE;
}
