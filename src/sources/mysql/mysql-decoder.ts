import type { AnyBinlogEvent, RowData, TableMapEntry } from '@vlasky/zongji';
import type { RowOp } from '../../model/change-event.js';
import { parseDdl } from './mysql-ddl.js';
import { GtidTracker } from './mysql-gtid-tracker.js';

/**
 * Where the stream stands: after the whole transaction ending at `file:pos`, plus the first `seq`
 * change events of the transaction starting there.
 */
export interface Cursor {
  file: string;
  pos: number;
  seq: number;
  gtid?: string;
}

interface ItemBase {
  /** The cursor right after this item. */
  after: Cursor;
  /** Rough memory held by the item, for the queue bound. */
  bytes: number;
}

/** One row change. `entry` is zongji's table map (columns as written in this event). */
export interface RowItem extends ItemBase {
  kind: 'row';
  table: string;
  op: Exclude<RowOp, 'snapshot'>;
  row: RowData;
  /** The row before an update that changed its primary key. */
  before?: RowData;
  entry: TableMapEntry;
  primaryKey: string[];
  /** Start of the transaction (= end of the previous one): the event's position. */
  txnFile: string;
  txnPos: number;
  seq: number;
  tsMs: number;
}

export interface TruncateItem extends ItemBase {
  kind: 'truncate';
  table: string;
  txnFile: string;
  txnPos: number;
  seq: number;
  tsMs: number;
}

/** DDL on selected tables (ALTER, RENAME, CREATE, DROP): a transaction of its own. */
export interface DdlItem extends ItemBase {
  kind: 'ddl';
  tables: string[];
  statement: string;
  /** Columns an ALTER TABLE renamed (`RENAME COLUMN a TO b`, `CHANGE a b …`), of `tables[0]`. */
  renames: { from: string; to: string }[];
}

/** A transaction boundary with nothing to write (a commit, a rotate, someone else's change). */
export interface CommitItem extends ItemBase {
  kind: 'commit';
}

export type StreamItem = RowItem | TruncateItem | DdlItem | CommitItem;

const IN_TXN_QUERIES = /^(BEGIN|SAVEPOINT|ROLLBACK TO|RELEASE SAVEPOINT|XA START|XA END)\b/i;
const COMMIT_QUERIES = /^(COMMIT|ROLLBACK|XA COMMIT|XA ROLLBACK)\b/i;

/**
 * Turns zongji events into `StreamItem`s, tracking transaction boundaries and positions.
 * The first `start.seq` change events of the first transaction are dropped: they were delivered
 * before (a transaction split across batches, or a queue restart).
 */
export class BinlogDecoder {
  private file: string;
  private pos: number;
  private readonly gtids: GtidTracker;
  private txn: { seq: number; tsMs: number } | null = null;
  private skip: number;
  /** Primary key column names per table map, from binlog_row_metadata=FULL (as of the event). */
  private readonly keys = new WeakMap<TableMapEntry, string[]>();

  constructor(
    start: Cursor,
    private readonly selected: (db: string, table: string) => boolean,
    private readonly emit: (item: StreamItem) => void,
  ) {
    this.file = start.file;
    this.pos = start.pos;
    this.skip = start.seq;
    this.gtids = new GtidTracker(start.gtid);
  }

  handle(event: AnyBinlogEvent): void {
    switch (event.getEventName()) {
      case 'rotate': {
        const e = event as Extract<AnyBinlogEvent, { getEventName(): 'rotate' }>;
        if (this.txn === null && (e.binlogName !== this.file || e.position !== this.pos)) {
          [this.file, this.pos] = [e.binlogName, e.position];
          this.emit({ kind: 'commit', after: this.cursor(0), bytes: 64 });
        }
        return;
      }
      case 'mariadbgtid':
        if (!(event as Extract<AnyBinlogEvent, { getEventName(): 'mariadbgtid' }>).standalone) this.begin(event.timestamp);
        return;
      case 'query':
        return this.query(event as Extract<AnyBinlogEvent, { getEventName(): 'query' }>);
      case 'tablemap': {
        const e = event as Extract<AnyBinlogEvent, { getEventName(): 'tablemap' }>;
        const entry = e.tableMap[e.tableId];
        if (entry !== undefined) {
          this.keys.set(entry, (e.primaryKey ?? []).map((i) => entry.columnSchemas[i]?.COLUMN_NAME ?? ''));
        }
        this.begin(event.timestamp);
        return;
      }
      case 'writerows':
      case 'updaterows':
      case 'deleterows':
        return this.rows(event as Extract<AnyBinlogEvent, { getEventName(): 'writerows' | 'updaterows' | 'deleterows' }>);
      case 'xid':
      case 'xaprepare':
        return this.commit(event);
    }
  }

  private begin(tsMs: number): void {
    this.txn ??= { seq: 0, tsMs };
  }

  private query(e: Extract<AnyBinlogEvent, { getEventName(): 'query' }>): void {
    const sql = e.query.replace(/^(\s|\/\*[^!][\s\S]*?\*\/)+/, '');
    if (IN_TXN_QUERIES.test(sql)) return this.begin(e.timestamp);
    if (this.txn !== null) {
      if (COMMIT_QUERIES.test(sql)) this.commit(e);
      return; // other statements inside a transaction end nothing
    }
    const ddl = parseDdl(sql, e.schema);
    const tables = ddl.tables.filter((t) => this.selected(t.slice(0, t.indexOf('.')), t.slice(t.indexOf('.') + 1)));
    if (ddl.kind === 'truncate' && tables[0] !== undefined) {
      this.txn = { seq: 0, tsMs: e.timestamp };
      const table = tables[0];
      this.change((seq) => ({ kind: 'truncate', table, txnFile: this.file, txnPos: this.pos, seq, tsMs: e.timestamp, after: this.cursor(seq + 1), bytes: 64 }));
    } else if (ddl.kind !== 'other' && tables.length > 0) {
      this.advance(e);
      this.emit({ kind: 'ddl', tables, statement: sql.slice(0, 300), renames: ddl.renames, after: this.cursor(0), bytes: 64 + sql.length });
      return;
    }
    this.commit(e);
  }

  private rows(e: Extract<AnyBinlogEvent, { getEventName(): 'writerows' | 'updaterows' | 'deleterows' }>): void {
    const entry = e.tableMap[e.tableId];
    if (entry === undefined) return; // a table outside the selection
    this.begin(e.timestamp);
    const tsMs = this.txn!.tsMs;
    const table = `${entry.parentSchema}.${entry.tableName}`;
    const primaryKey = this.keys.get(entry) ?? [];
    const base = { kind: 'row' as const, table, entry, primaryKey, txnFile: this.file, txnPos: this.pos, tsMs };
    const push = (op: RowItem['op'], row: RowData, before?: RowData): void =>
      this.change((seq) => ({ ...base, op, row, ...(before === undefined ? {} : { before }), seq, after: this.cursor(seq + 1), bytes: rowBytes(row) }));
    const name = e.getEventName();
    for (const r of e.rows) {
      if (name !== 'updaterows') {
        push(name === 'writerows' ? 'insert' : 'delete', r as RowData);
        continue;
      }
      const { before, after } = r as { before: RowData; after: RowData };
      // A changed key: one update that also names the old key (MERGE retires it).
      push('update', after, primaryKey.some((k) => !sameValue(before[k], after[k])) ? before : undefined);
    }
  }

  /** Emits one change event of the open transaction unless it was delivered before. */
  private change(make: (seq: number) => StreamItem): void {
    const txn = this.txn!;
    const seq = txn.seq++;
    if (seq < this.skip) return;
    this.emit(make(seq));
  }

  private commit(e: AnyBinlogEvent): void {
    this.advance(e);
    this.emit({ kind: 'commit', after: this.cursor(0), bytes: 64 });
  }

  private advance(e: AnyBinlogEvent): void {
    if (e.nextPosition > 0) this.pos = e.nextPosition;
    if (e.gtid !== undefined) this.gtids.add(e.gtid);
    this.txn = null;
    this.skip = 0;
  }

  private cursor(seq: number): Cursor {
    const c: Cursor = { file: this.file, pos: this.pos, seq };
    const gtid = this.gtids.current();
    if (gtid !== undefined) c.gtid = gtid;
    return c;
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b || String(a) === String(b);
}

function rowBytes(row: RowData): number {
  let n = 64;
  for (const v of Object.values(row)) {
    n += typeof v === 'string' ? v.length * 2 : Buffer.isBuffer(v) ? v.length : 16;
  }
  return n;
}
