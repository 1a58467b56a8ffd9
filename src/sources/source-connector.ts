import type { Checkpoint } from '../model/checkpoint.js';
import type { ChangeEvent } from '../model/change-event.js';
import type { BatchLimits } from '../model/pipeline-spec.js';
import type { Position } from '../model/position.js';
import type { SourceRetention } from '../model/retention.js';
import type { TableSchema } from '../model/table-schema.js';

/** Where a capture puts what it reads (a `SpoolWriter` in production). */
export interface BatchSink {
  /** Declares the schema of following events of `schema.table`. Call before a table's first event and after every change. */
  setSchema(schema: TableSchema): void;
  /**
   * False when `schema` changes a table this batch already wrote rows of: the capture must end the
   * batch before that event (DuckDB cannot apply a schema change after rows of a table in one
   * transaction) and start the next batch with it.
   */
  accepts(schema: TableSchema): boolean;
  /** True when this batch wrote rows or a truncate of `table`. */
  hasChanges(table: string): boolean;
  /**
   * Declares a table's shape with no rows (see `SchemaProbe`): the destination creates or evolves
   * the table at this point of the batch. Only while `hasChanges(schema.table)` is false.
   */
  declareTable(schema: TableSchema): void;
  /** Removes what an interrupted initial snapshot copied into `table` (rows at `position`, see `DiscardSegment`). */
  discardSnapshot(table: string, position: string): void;
  /** Marks the start of `table`'s incremental copy (see `BackfillBeginSegment`); ends the table's current run of rows. */
  beginBackfill(table: string, key: string[]): void;
  /** Marks the end of `table`'s incremental copy (see `BackfillEndSegment`). */
  endBackfill(table: string, key: string[], position: string, commitTs: string | null): void;
  /** Records columns the source renamed (from DDL); only while `hasChanges(table)` is false. */
  renameColumns(table: string, renames: { from: string; to: string }[]): void;
  /**
   * Stages one event. Returns a promise only when the sink is backed up (backpressure): the
   * capture then awaits it before the next event.
   */
  write(event: ChangeEvent): Promise<void> | undefined;
  /** Events written so far. */
  readonly events: number;
  /** Bytes staged so far. */
  readonly bytes: number;
}

export interface CaptureContext {
  /** Call at least every few seconds while waiting or reading. */
  heartbeat(): void;
  /** Aborted when the activity is cancelled or the worker shuts down: return promptly, writing nothing more. */
  signal: AbortSignal;
}

export interface CaptureOutcome {
  /** The checkpoint right after the last event written; equal to `from` when nothing arrived. */
  to: Checkpoint;
  /** Human-readable schema changes seen (new table, added column, type change). */
  schemaChanges: string[];
}

export interface PreflightReport {
  /** Tables that will be captured, with their current schema. */
  tables: TableSchema[];
  /** Things that work but deserve attention (e.g. REPLICA IDENTITY DEFAULT with TOASTed columns). */
  warnings: string[];
}

/**
 * One source database. An instance is held per pipeline by the worker and reused across
 * activities, so a stream opened by one capture serves the next without reconnecting.
 * `capture` is never called while another capture runs; `acknowledge`, `currentPosition`,
 * `retention`, `lagBytes`, `reached` and `describe` may be (the next batch is read ahead while the previous
 * one loads). Nothing else is called concurrently.
 */
export interface SourceConnector {
  /**
   * Checks server settings, tables, keys and privileges without changing anything.
   * Idempotent. Throws a `DucktailError` that names the setting or table and the fix.
   */
  preflight(): Promise<PreflightReport>;

  /**
   * Creates what capture needs (publication, replication slot, ...) if missing. Idempotent.
   * Returns the checkpoint a pipeline with nothing loaded yet starts from: a snapshot plan
   * when `snapshot.enabled`, else the current stream position.
   */
  prepare(): Promise<Checkpoint>;

  /**
   * Reads the next changes after `from` into `sink`, within `limits`: snapshot chunks while
   * `from.snapshot` is unfinished, then stream events. A batch ends on a transaction boundary
   * unless one transaction alone exceeds the limits. `from` is the durable checkpoint: when the
   * open stream is elsewhere (an earlier batch was never loaded), the connector repositions.
   * Events at or before `from` are never written. Returns within about `idleWaitMs` when
   * nothing arrives.
   */
  capture(from: Checkpoint, sink: BatchSink, limits: BatchLimits, ctx: CaptureContext): Promise<CaptureOutcome>;

  /**
   * Tells the source that everything up to `checkpoint` is durable in DuckDB, so it may free
   * the log before it. Only ever called after the load that wrote `checkpoint` committed.
   */
  acknowledge(checkpoint: Checkpoint): Promise<void>;

  /** The source's current end of log (for catch-up targets and lag). */
  currentPosition(): Promise<Position>;

  /** True when `checkpoint` has loaded everything up to and including `target`. */
  reached(checkpoint: Checkpoint, target: Position): boolean;

  /**
   * What the source keeps for this pipeline from `checkpoint` on (PostgreSQL: the WAL its slot
   * retains; MySQL/MariaDB: the binlog from the checkpoint's file and offset to the end), with
   * warnings: over `retention.warnBytes`, a slot about to be lost, a binlog the server's expiry
   * may purge first (`loadedCommitTs`, the commit time of the last change loaded, helps tell the
   * age of the oldest binlog needed). Reads the source; may be called while a capture runs.
   * Throws `PositionLostError` naming the fix when the source can no longer serve `checkpoint`
   * (slot dropped or invalidated, binlog purged).
   */
  retention(checkpoint: Checkpoint, loadedCommitTs?: string | null): Promise<SourceRetention>;

  /** Bytes of log between `checkpoint` and `current`, when the source can tell. */
  lagBytes(checkpoint: Checkpoint, current: Position): number | null;

  /** Formats a position for people (status, logs). */
  describe(position: Position): string;

  /**
   * Checks that `tables` can be copied again while streaming (see src/sources/backfill.ts) and
   * creates what that needs at the source (MySQL: the watermark table). Throws a `DucktailError`
   * naming the missing privilege and the fix.
   */
  prepareResync(tables: string[]): Promise<void>;

  /**
   * Lets go of the change stream (the replication slot, the binlog reader) while no capture runs,
   * so a capture on another worker process can open it; the next capture here opens it again.
   * A snapshot in progress keeps what it holds.
   */
  releaseStream(): Promise<void>;

  /** Closes connections. The instance may be opened again by a later call. */
  close(): Promise<void>;

  /** Removes the slot / publication this pipeline created at the source. */
  teardown(): Promise<void>;
}
