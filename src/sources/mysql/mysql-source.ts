import type { Connection, ConnectionOptions } from 'mysql2/promise';
import { randomUUID } from 'node:crypto';
import type { Checkpoint, SnapshotProgress, TableBackfill } from '../../model/checkpoint.js';
import type { BatchLimits, MysqlSourceSpec, PipelineSpec } from '../../model/pipeline-spec.js';
import type { MysqlPosition, Position } from '../../model/position.js';
import type { TableSchema } from '../../model/table-schema.js';
import { PositionLostError, PrivilegeError } from '../../errors.js';
import { retentionSettings, type SourceRetention } from '../../model/retention.js';
import { positionLostHint } from '../position-lost.js';
import { thresholdWarning } from '../retention.js';
import { binlogExpirySeconds, binlogRetention, readBinlogFiles, readExpiryVariables } from './mysql-retention.js';
import type { Logger } from '../../logger.js';
import type { BatchSink, CaptureContext, CaptureOutcome, PreflightReport, SourceConnector } from '../source-connector.js';
import type { SnapshotBudget } from '../batch-rules.js';
import { activeBackfill, advanceBackfill, BACKFILL_CHUNK_MAX, ChunkTracker, ChunkWindow, skipBackfill, WATERMARK_TABLE } from '../backfill.js';
import { captureBatch, snapshotOutcome, snapshotStartedOver, streamOutcome } from '../capture-core.js';
import { SchemaProbe } from '../schema-probe.js';
import { SchemaTracker } from '../schema-tracker.js';
import { toDucktailError } from './mysql-errors.js';
import type { SourceDeps } from '../source-deps.js';
import { captureStream } from './mysql-capture.js';
import { connectionOptions, errorContext, isMariadb, isUsable, openConnection, quoteIdent, readBinlogEnd } from './mysql-connection.js';
import type { ErrorContext } from '../source-errors.js';
import {
  asMysqlPosition,
  binlogBytesBetween,
  compareMysqlPositions,
  formatEventPosition,
  formatMysqlPosition,
  samePosition,
} from './mysql-position.js';
import { runPreflight } from './mysql-preflight.js';
import { SchemaCache } from './mysql-schema-cache.js';
import { listSelectedTables, loadTables, type TableInfo } from './mysql-catalog.js';
import { TableSelection } from '../table-selection.js';
import { SnapshotOutdatedError } from '../snapshot-outdated.js';
import { statementsWaitingFor } from './mysql-ddl-waiters.js';
import { beginSnapshot, copySnapshotChunk, readBackfillChunk } from './mysql-snapshot.js';
import { BinlogStream } from './mysql-stream.js';
import { mapTable, type MappedTable } from './mysql-types.js';

/**
 * MySQL / MariaDB change capture from the row-based binlog (zongji), after an optional snapshot.
 * Nothing is created at the source: a binlog position needs no slot, so `prepare` only picks the
 * starting point, `acknowledge` only remembers, and `teardown` has nothing to drop. The server
 * keeps binlogs by time (binlog_expire_logs_seconds), not by our progress: a pipeline stopped
 * longer than that must re-snapshot (capture fails with PositionLostError).
 */
interface HeldSnapshot {
  conn: Connection;
  start: MysqlPosition;
  tables: Map<string, TableInfo>;
  /** Tables the transaction has read, so holds a metadata lock on. */
  read: Set<string>;
  /** Looks for schema changes waiting for those locks. */
  watch: NodeJS.Timeout;
  /** A chunk is being read: a waiting schema change is let through when it ends. */
  busy: boolean;
  yieldTo: string | null;
}

/** How often the server's binlog expiry settings are read again. */
const EXPIRY_REREAD_MS = 5 * 60_000;

/** How often a held snapshot looks for schema changes waiting for it. */
const DDL_WAIT_CHECK_MS = 1000;

export class MysqlSource implements SourceConnector {
  private readonly source: MysqlSourceSpec;
  private readonly options: ConnectionOptions;
  private readonly errCtx: ErrorContext;
  private readonly logger: Logger;
  private readonly selection: TableSelection;
  private control: Connection | null = null;
  /** The open consistent-snapshot transaction, the binlog position it matches and the tables' shapes then. */
  private snapshot: HeldSnapshot | null = null;
  private stream: BinlogStream | null = null;
  private readonly shapes: SchemaCache;
  private readonly schemas = new SchemaTracker();
  private seeded = false;
  private acknowledged: Checkpoint | null = null;
  private readonly probe: SchemaProbe<Position>;
  /** The incremental copy's chunk in flight, and the reader it was read with. */
  private readonly chunks = new ChunkTracker();
  private chunkStream: BinlogStream | null = null;
  /** When each binlog file was last seen being written (the newest): it was modified at or after that. */
  private readonly binlogWrittenAt = new Map<string, number>();
  /** The server's binlog expiry, re-read now and then. */
  private expiry: { seconds: number | null; readAt: number } | null = null;
  /** Databases whose watermark table this process made sure of. */
  private readonly watermarkTables = new Set<string>();

  constructor(
    private readonly spec: PipelineSpec,
    deps: SourceDeps,
  ) {
    if (spec.source.kind !== 'mysql') throw new Error(`MysqlSource needs a mysql source, got ${spec.source.kind}`);
    this.source = spec.source;
    this.options = connectionOptions(this.source, deps.password);
    this.errCtx = { ...errorContext(this.source), pipeline: spec.name };
    this.logger = deps.logger.child({ pipeline: spec.name, source: 'mysql' });
    this.probe = new SchemaProbe(deps.schemaProbeMs);
    this.selection = new TableSelection(this.source.tables);
    this.shapes = new SchemaCache(async (tables) => loadTables(await this.conn(), tables));
  }

  async preflight(): Promise<PreflightReport> {
    const { report, tables } = await runPreflight(await this.conn(), this.spec, this.selection, this.errCtx);
    this.shapes.seed(tables.values());
    return report;
  }

  async prepare(): Promise<Checkpoint> {
    if (!this.spec.snapshot.enabled) return { position: await readBinlogEnd(await this.conn()), batchId: '' };
    await this.endSnapshot();
    const conn = await openConnection(this.options, this.errCtx);
    const { start, consistent } = await beginSnapshot(conn, await isMariadb(conn));
    // The shapes are read on the control connection: reading a table's odd default queries the
    // table, and inside the snapshot transaction that would hold its metadata lock until the copy
    // ends, before the copy has read it (so the DDL watch, which looks at tables read, misses it).
    const tables = await listSelectedTables(conn, this.selection);
    const shapes = await loadTables(await this.conn(), tables);
    const watch = setInterval(() => void this.giveWayToDdl(), DDL_WAIT_CHECK_MS).unref();
    this.snapshot = { conn, start, tables: shapes, read: new Set(), watch, busy: false, yieldTo: null };
    this.logger.info({ start: formatMysqlPosition(start), consistent, tables: tables.length }, 'snapshot planned');
    return {
      position: null,
      batchId: '',
      snapshot: { startPosition: start, tables: tables.map((table) => ({ table, done: false, rows: 0 })), consistent },
    };
  }

  async capture(from: Checkpoint, sink: BatchSink, limits: BatchLimits, ctx: CaptureContext): Promise<CaptureOutcome> {
    try {
      return await captureBatch(from, sink, limits, this.spec.snapshot.chunkRows, ctx, {
        snapshot: (f, progress, s, budget) => this.captureSnapshot(f, progress, s, budget, ctx),
        stream: (f, start, s, l) => this.captureStream(f, asMysqlPosition(start), s, l, ctx),
      });
    } catch (e) {
      throw toDucktailError(e, { ...this.errCtx, doing: 'capturing from MySQL' });
    }
  }

  private async captureStream(from: Checkpoint, position: MysqlPosition, sink: BatchSink, limits: BatchLimits, ctx: CaptureContext): Promise<CaptureOutcome> {
    await this.endSnapshot();
    const stream = await this.openStream(position, limits);
    if (this.probe.due()) {
      const shapes = await this.catalogSchemas();
      this.probe.take(await readBinlogEnd(await this.conn()), shapes, this.schemas);
    }
    if (stream !== this.chunkStream) {
      this.chunks.reset(); // a new reader: nothing read before continues
      this.chunkStream = stream;
    }
    let backfill = from.backfill;
    const notes: string[] = [];
    const entry = activeBackfill(from);
    if (entry !== null && this.chunks.resume(from) === null && !ctx.signal.aborted) {
      const skipped = await this.startChunk(entry);
      if (skipped !== null && backfill !== undefined) {
        backfill = skipBackfill(backfill, entry.table);
        notes.push(`${entry.table}: ${entry.reason} skipped: ${skipped}`);
      }
    }
    const state = {
      stream, shapes: this.shapes, schemas: this.schemas, chunks: this.chunks,
      told: (schema: TableSchema) => this.probe.markTold(schema),
      ddl: (tables: string[]) => tables.forEach((t) => this.probe.invalidate(t)),
    };
    const { to, schemaChanges } = await captureStream(position, state, sink, limits, ctx);
    const reached = (at: Position): boolean => compareMysqlPositions(to, asMysqlPosition(at)) >= 0;
    schemaChanges.push(...notes, ...this.probe.declareSettled(reached, sink, this.schemas));
    const done = this.chunks.done;
    if (done !== null && backfill !== undefined) backfill = advanceBackfill(backfill, done);
    const outcome = streamOutcome(from, to, !samePosition(to, position) || to.gtid !== position.gtid, schemaChanges, backfill);
    this.chunks.ended(outcome.to);
    return outcome;
  }

  /**
   * Reads the next chunk of `entry`'s table between a low and a high watermark row written to the
   * binlog (see src/sources/backfill.ts). InnoDB commits in binlog order, so the read sees every
   * transaction logged before the low watermark. Returns why the table cannot be copied, or null.
   */
  private async startChunk(entry: TableBackfill): Promise<string | null> {
    const conn = await this.conn();
    const info = (await loadTables(conn, [entry.table])).get(entry.table);
    if (info === undefined) return 'the table no longer exists at the source';
    if (info.primaryKey.length === 0) return 'the table has no primary key, so it cannot be copied in key order';
    const db = entry.table.slice(0, entry.table.indexOf('.'));
    const marks = await this.ensureWatermarkTable(conn, db);
    const id = randomUUID();
    const emit = (mark: 'low' | 'high'): Promise<unknown> =>
      conn.query(`INSERT INTO ${marks} (pipeline, chunk, mark) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE chunk = VALUES(chunk), mark = VALUES(mark)`, [this.spec.name, id, mark]);
    await emit('low');
    const chunk = await readBackfillChunk(conn, mapTable(entry.table, info.columns, info.primaryKey), entry.lastKey, Math.min(this.spec.snapshot.chunkRows, BACKFILL_CHUNK_MAX), entry.keys);
    await emit('high');
    this.chunks.window = new ChunkWindow(id, entry, chunk);
    return null;
  }

  /** Nothing to release at the source (a binlog reader holds no slot); remembered for status. */
  acknowledge(checkpoint: Checkpoint): Promise<void> {
    this.acknowledged = checkpoint;
    return Promise.resolve();
  }

  async currentPosition(): Promise<Position> {
    return readBinlogEnd(await this.conn());
  }

  async retention(checkpoint: Checkpoint, loadedCommitTs?: string | null): Promise<SourceRetention> {
    const conn = await this.conn();
    const files = await readBinlogFiles(conn);
    const now = new Date();
    const newest = files.at(-1);
    if (newest !== undefined) {
      this.binlogWrittenAt.delete(newest.file); // re-inserted last: the oldest entries go first
      if (this.binlogWrittenAt.size >= 1_000) this.binlogWrittenAt.delete(this.binlogWrittenAt.keys().next().value ?? '');
      this.binlogWrittenAt.set(newest.file, now.getTime());
    }
    if (this.expiry === null || now.getTime() - this.expiry.readAt > EXPIRY_REREAD_MS) {
      this.expiry = { seconds: binlogExpirySeconds(await readExpiryVariables(conn)), readAt: now.getTime() };
    }
    const start = checkpoint.position ?? checkpoint.snapshot?.startPosition ?? null;
    const at = start === null ? null : asMysqlPosition(start);
    const loaded = loadedCommitTs == null ? null : Date.parse(loadedCommitTs);
    const seen = at === null ? undefined : this.binlogWrittenAt.get(at.file);
    const modifiedAfter = Math.max(seen ?? -Infinity, loaded ?? -Infinity);
    const retention = binlogRetention(at, files, this.expiry.seconds, Number.isFinite(modifiedAfter) ? modifiedAfter : null, now);
    if (retention === 'purged') {
      throw new PositionLostError(
        `binlog ${at?.file ?? '?'}, which pipeline ${this.spec.name} resumes from (${at === null ? '?' : formatMysqlPosition(at)}), is no longer on the server ${this.errCtx.endpoint ?? ''} (purged; the oldest now is ${files[0]?.file ?? 'none'})`,
        `${positionLostHint(this.spec.name, this.spec.mode)}; keep binlogs longer than a pipeline may be paused or stopped (binlog_expire_logs_seconds)`,
      );
    }
    const over = thresholdWarning(this.spec.name, retention.bytes, 'binlog', retentionSettings(this.spec).warnBytes);
    if (over !== null) retention.warnings.unshift(over);
    return retention;
  }

  reached(checkpoint: Checkpoint, target: Position): boolean {
    if (checkpoint.position === null || checkpoint.snapshot !== undefined) return false;
    return compareMysqlPositions(asMysqlPosition(checkpoint.position), asMysqlPosition(target)) >= 0;
  }

  lagBytes(checkpoint: Checkpoint, current: Position): number | null {
    const at = checkpoint.position ?? checkpoint.snapshot?.startPosition ?? null;
    return at === null ? null : binlogBytesBetween(asMysqlPosition(at), asMysqlPosition(current));
  }

  describe(position: Position): string {
    return formatMysqlPosition(asMysqlPosition(position));
  }

  async prepareResync(tables: string[]): Promise<void> {
    for (const db of new Set(tables.map((t) => t.slice(0, t.indexOf('.'))))) {
      try {
        await this.ensureWatermarkTable(await this.conn(), db);
      } catch (e) {
        const errno = (e as { errno?: number }).errno;
        if (errno !== 1142 && errno !== 1044) throw e; // command denied / access denied
        throw new PrivilegeError(
          `${this.source.user} may not create or write ${db}.${WATERMARK_TABLE}, the table a re-sync writes its watermarks to (${(e as Error).message})`,
          `GRANT CREATE, INSERT, UPDATE ON ${quoteIdent(db)}.${quoteIdent(WATERMARK_TABLE)} TO the pipeline's user, then resync again`,
        );
      }
    }
  }

  async releaseStream(): Promise<void> {
    const stream = this.stream;
    this.stream = null;
    await stream?.close();
  }

  async close(): Promise<void> {
    await this.stream?.close();
    this.stream = null;
    await this.endSnapshot();
    const control = this.control;
    this.control = null;
    await control?.end().catch(() => control.destroy());
  }

  /** Nothing was created at the source, so there is nothing to remove; closes connections. */
  async teardown(): Promise<void> {
    this.logger.info({ acknowledged: this.acknowledged?.batchId }, 'mysql teardown: nothing to drop at the source');
    await this.close();
  }

  private async captureSnapshot(from: Checkpoint, snapshot: SnapshotProgress, sink: BatchSink, budget: SnapshotBudget, ctx: CaptureContext): Promise<CaptureOutcome> {
    const start = asMysqlPosition(snapshot.startPosition);
    const held = this.snapshot;
    if (held === null || !samePosition(held.start, start) || !isUsable(held.conn)) return this.restartSnapshot(from, snapshot, sink);
    let outcome: CaptureOutcome;
    held.busy = true;
    try {
      const { progress, schemaChanges } = await copySnapshotChunk({
        conn: held.conn, progress: snapshot, sink, budget, schemas: this.schemas, ctx,
        shapeOf: (t) => this.snapshotSchema(held.conn, t),
      });
      outcome = snapshotOutcome(from, progress, schemaChanges);
    } catch (err) {
      // 1412 "Table definition has changed": an ALTER rebuilt a table after the snapshot began, so
      // the snapshot can no longer read it. Only a new snapshot can.
      if ((err as { errno?: number }).errno !== 1412 && !(err instanceof SnapshotOutdatedError)) throw err;
      if (err instanceof SnapshotOutdatedError) this.logger.warn({ table: err.table, why: err.why }, 'a table changed after the snapshot began: starting the snapshot over');
      await this.endSnapshot();
      if (sink.events === 0) return this.restartSnapshot(from, snapshot, sink);
      throw err;
    } finally {
      held.busy = false;
    }
    if (outcome.to.snapshot === undefined || held.yieldTo !== null) await this.endSnapshot();
    return outcome;
  }

  /**
   * The snapshot transaction locks the tables it has read until it ends: a schema change of one
   * of them would wait for the whole copy, and every query of that table behind it. The snapshot
   * ends instead (at once, or when the chunk being read is done); the next capture copies again
   * from a new snapshot, after the change.
   */
  private async giveWayToDdl(): Promise<void> {
    const held = this.snapshot;
    if (held === null || held.read.size === 0 || held.yieldTo !== null) return;
    try {
      const waiting = await statementsWaitingFor(await this.conn(), held.read);
      if (waiting[0] === undefined || this.snapshot !== held) return;
      held.yieldTo = waiting[0];
      this.logger.warn({ statement: waiting[0].slice(0, 200) }, 'a schema change waits for the snapshot to end: ending it; the copy starts over after the change');
      if (!held.busy) await this.endSnapshot();
    } catch (err) {
      this.logger.debug({ err }, 'could not look for schema changes waiting for the snapshot');
    }
  }

  /**
   * The consistent-snapshot transaction is gone (the process holding it died): chunks read now
   * would not match the snapshot's binlog position. The copy starts over from a new consistent
   * snapshot, and what the interrupted copy loaded is discarded in this batch.
   */
  private async restartSnapshot(from: Checkpoint, snapshot: SnapshotProgress, sink: BatchSink): Promise<CaptureOutcome> {
    const old = asMysqlPosition(snapshot.startPosition);
    const next = (await this.prepare()).snapshot;
    if (next === undefined) throw new Error('a snapshot restarts only while snapshot.enabled');
    const at = formatMysqlPosition(asMysqlPosition(next.startPosition));
    const { outcome, discardedRows } = snapshotStartedOver(from, snapshot, formatEventPosition(old.file, old.pos), next, at, sink);
    this.logger.warn({ discardedRows, start: at }, 'the snapshot was interrupted and its transaction is gone: copying again from a new consistent snapshot');
    return outcome;
  }

  /** The current shape of every selected table, from information_schema. */
  private async catalogSchemas(): Promise<TableSchema[]> {
    const conn = await this.conn();
    const tables = await loadTables(conn, await listSelectedTables(conn, this.selection));
    return [...tables.values()].map((t) => mapTable(t.table, t.columns, t.primaryKey).schema);
  }

  /**
   * The shape a table is copied under: the one it had when the snapshot began (the stream goes on
   * from there). information_schema shows only the present, so the shapes are read when the
   * snapshot begins; a table whose columns were renamed, dropped or retyped since cannot be read
   * as it was, and the snapshot starts over (columns added since are just not read). Read on the
   * snapshot's own connection: its transaction holds this table's metadata lock (or takes it now to
   * copy it), so a schema change waiting for that lock cannot hold the read up. On another
   * connection, reading an odd default (a query of the table) would queue behind the schema
   * change, which waits for this copy: a deadlock until the change's lock wait times out.
   */
  private async snapshotSchema(conn: Connection, table: string): Promise<MappedTable | undefined> {
    this.snapshot?.read.add(table);
    const info = (await loadTables(conn, [table])).get(table);
    if (info === undefined) return undefined;
    const then = this.snapshot?.tables.get(table);
    if (then !== undefined && !readableAs(then, info)) throw new SnapshotOutdatedError(table, 'a column was renamed, dropped or retyped');
    const shape = then ?? info;
    this.shapes.seed([shape]);
    return mapTable(table, shape.columns, shape.primaryKey);
  }

  /** Reuses the open reader when it stands exactly at `from`; otherwise repositions. */
  private async openStream(from: MysqlPosition, limits: BatchLimits): Promise<BinlogStream> {
    const at = this.stream?.cursor;
    if (this.stream !== null && at !== undefined && !this.stream.failed && samePosition({ kind: 'mysql', ...at }, from)) return this.stream;
    await this.stream?.close();
    this.probe.reset();
    // Tables that exist when streaming starts are not reported as new when their first row arrives.
    if (!this.seeded) {
      const tables = await loadTables(await this.conn(), await listSelectedTables(await this.conn(), this.selection));
      this.shapes.seed(tables.values());
      for (const t of tables.values()) this.schemas.seed(mapTable(t.table, t.columns, t.primaryKey).schema);
      this.seeded = true;
    }
    this.stream = new BinlogStream(
      {
        connection: this.options,
        serverId: this.source.serverId,
        selection: this.selection,
        // Decoded rows cost several times their counted bytes in memory: a small queue is enough, as capture reads continuously.
        maxQueueBytes: Math.min(Math.max(8 << 20, limits.maxBytes / 4), 32 << 20),
        errorContext: this.errCtx,
        logger: this.logger,
      },
      { file: from.file, pos: from.pos, seq: from.seq ?? 0, gtid: from.gtid },
    );
    return this.stream;
  }

  private async endSnapshot(): Promise<void> {
    const snap = this.snapshot;
    this.snapshot = null;
    if (snap === null) return;
    clearInterval(snap.watch);
    await snap.conn.query('COMMIT').catch(() => undefined);
    await snap.conn.end().catch(() => snap.conn.destroy());
  }

  /** Creates the watermark table of `db` unless this process did already; returns its quoted name. */
  private async ensureWatermarkTable(conn: Connection, db: string): Promise<string> {
    const marks = `${quoteIdent(db)}.${quoteIdent(WATERMARK_TABLE)}`;
    if (!this.watermarkTables.has(db)) {
      await conn.query(
        `CREATE TABLE IF NOT EXISTS ${marks} (pipeline VARCHAR(190) NOT NULL PRIMARY KEY, chunk VARCHAR(64) NOT NULL, mark VARCHAR(8) NOT NULL) COMMENT 'ducktail re-sync watermarks; safe to drop when no re-sync runs'`,
      );
      this.watermarkTables.add(db);
    }
    return marks;
  }

  /** The control connection, reopened when the server or network dropped it. */
  private async conn(): Promise<Connection> {
    if (this.control !== null && !isUsable(this.control)) {
      this.control.destroy();
      this.control = null;
    }
    this.control ??= await openConnection(this.options, this.errCtx);
    return this.control;
  }
}

/** True when the snapshot can still read a table under the shape it had (`then`): every column it had is still there, same name and type. */
function readableAs(then: TableInfo, now: TableInfo): boolean {
  const current = new Map(now.columns.map((c) => [c.name, c.type]));
  return then.columns.every((c) => current.get(c.name) === c.type) && then.primaryKey.join('\0') === now.primaryKey.join('\0');
}
