import type { ChangeEvent } from '../../model/change-event.js';
import type { BatchLimits } from '../../model/pipeline-spec.js';
import type { MysqlPosition } from '../../model/position.js';
import type { TableSchema } from '../../model/table-schema.js';
import type { BatchSink, CaptureContext } from '../source-connector.js';
import type { Cursor, RowItem, StreamItem, TruncateItem } from './mysql-decoder.js';
import { formatEventPosition } from './mysql-position.js';
import { describeSchemaChange, type SchemaCache } from './mysql-schema-cache.js';
import type { BinlogStream } from './mysql-stream.js';
import type { MappedTable } from './mysql-types.js';
import { fromBinlog } from './mysql-values.js';

/** State that outlives one capture: the schema each table was last written with. */
export interface StreamCaptureState {
  stream: BinlogStream;
  schemas: SchemaCache;
  known: Map<string, TableSchema>;
  /** Called for every event written, with the shape it was written under. */
  told?(schema: TableSchema): void;
  /** Called for DDL of selected tables as it streams past. */
  ddl?(tables: string[]): void;
}

/** A batch with changes closes once the stream has been quiet this long between transactions. */
const QUIET_MS = 100;

/**
 * Moves stream items into `sink` until a batch is complete:
 * - on a transaction boundary once `maxRows`/`maxBytes` are reached or `maxWaitMs` has passed
 *   since the first event;
 * - mid-transaction only when the open transaction's own events reach the limits (its end is
 *   then `{file, pos, seq}`: the transaction's start plus the events written);
 * - between transactions once nothing has arrived for `QUIET_MS` after the first event;
 * - after `idleWaitMs` with nothing written (`to` may still have moved past other tables' changes).
 */
export async function captureStream(
  from: MysqlPosition,
  state: StreamCaptureState,
  sink: BatchSink,
  limits: BatchLimits,
  ctx: CaptureContext,
): Promise<{ to: MysqlPosition; schemaChanges: string[] }> {
  const started = Date.now();
  const startBytes = sink.bytes;
  const declared = new Map<string, TableSchema>();
  const schemaChanges: string[] = [];
  let to: Cursor = { file: from.file, pos: from.pos, seq: from.seq ?? 0, gtid: from.gtid };
  let written = 0;
  let firstAt: number | null = null;
  let txnEvents = 0;
  let txnStartBytes = sink.bytes;
  let full = false;

  const declare = (schema: TableSchema): void => {
    if (declared.get(schema.table) !== schema) {
      declared.set(schema.table, schema);
      sink.setSchema(schema);
    }
    const before = state.known.get(schema.table);
    if (before !== schema && JSON.stringify(before) !== JSON.stringify(schema)) {
      schemaChanges.push(...describeSchemaChange(before, schema));
    }
    state.known.set(schema.table, schema);
    state.told?.(schema);
  };

  for (;;) {
    if (ctx.signal.aborted) break;
    const now = Date.now();
    const deadline = firstAt === null ? started + limits.idleWaitMs : firstAt + limits.maxWaitMs;
    if (now >= deadline) {
      if (firstAt === null || txnEvents === 0) break;
      full = true; // time is up: finish the open transaction first
    }
    const quiet = firstAt !== null && txnEvents === 0;
    const waitMs = full ? 1000 : Math.max(1, Math.min(quiet ? QUIET_MS : 1000, deadline - now));
    const item: StreamItem | null = await state.stream.next(waitMs, ctx.signal);
    ctx.heartbeat();
    if (item === null) {
      if (quiet) break; // the backlog is drained: load what we have
      continue;
    }
    if (item.kind === 'ddl' && item.tables.some((t) => sink.hasChanges(t))) {
      // DDL of a table this batch wrote: it starts the next batch (see BatchSink.accepts).
      state.stream.unread(item, to);
      break;
    }
    if (item.kind === 'commit' || item.kind === 'ddl') {
      if (item.kind === 'ddl') {
        state.schemas.invalidate(item.tables);
        state.ddl?.(item.tables);
        schemaChanges.push(...item.tables.map((t) => `${t}: ${item.statement}`));
        const table = item.tables[0];
        if (item.renames.length > 0 && table !== undefined) {
          sink.renameColumns(table, item.renames);
          renameKnown(state, table, item.renames);
          schemaChanges.push(...item.renames.map((r) => `${table}: column ${r.from} renamed to ${r.to}`));
        }
      }
      to = item.after;
      txnEvents = 0;
      txnStartBytes = sink.bytes;
      if (full) break;
      continue;
    }
    if (item.kind === 'truncate' && !declared.has(item.table)) {
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
      const schema = item.kind === 'truncate' ? { schema: declared.get(item.table)!, kinds: [] } : await schemaOf(item, state);
      if (!sink.accepts(schema.schema)) {
        state.stream.unread(item, to);
        break;
      }
      await sink.write(toEvent(item, schema, declare));
    }
    to = item.after;
    written++;
    txnEvents++;
    firstAt ??= Date.now();
    if (written >= limits.maxRows || sink.bytes - startBytes >= limits.maxBytes) full = true;
    // One transaction alone over the limits: cut it here, the rest follows in the next batch.
    if (txnEvents >= limits.maxRows || sink.bytes - txnStartBytes >= limits.maxBytes) break;
  }
  const position: MysqlPosition = { kind: 'mysql', file: to.file, pos: to.pos };
  if (to.gtid !== undefined) position.gtid = to.gtid;
  if (to.seq > 0) position.seq = to.seq;
  return { to: position, schemaChanges };
}

/** The schema an item is written under (a TRUNCATE carries no columns: the last one known, else the current one). */
async function schemaOf(item: RowItem | TruncateItem, state: StreamCaptureState): Promise<MappedTable> {
  if (item.kind === 'row') return state.schemas.forRow(item.table, item.entry, item.primaryKey);
  const known = state.known.get(item.table);
  if (known !== undefined) return { schema: known, kinds: [] };
  const mapped = await state.schemas.forTable(item.table);
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

/** Keeps the last known schema of a table in step with a rename, so the notes describe it once. */
function renameKnown(state: StreamCaptureState, table: string, renames: { from: string; to: string }[]): void {
  const known = state.known.get(table);
  if (known === undefined) return;
  const columns = known.columns.map((c) => ({ ...c, name: renames.find((r) => r.from === c.name)?.to ?? c.name }));
  const primaryKey = known.primaryKey.map((k) => renames.find((r) => r.from === k)?.to ?? k);
  state.known.set(table, { ...known, columns, primaryKey });
}

/** Binlog timestamps have whole seconds; the contract wants ISO-8601 UTC with microseconds. */
function isoMicros(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
