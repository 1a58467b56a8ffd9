import type { Checkpoint } from './checkpoint.js';
import type { Op } from './change-event.js';
import type { TableSchema } from './table-schema.js';

/**
 * A run of staged rows for one table under one schema, or a truncate of that table.
 * Segments are applied in manifest order.
 */
export type Segment = RowSegment | TruncateSegment | RenameSegment | SchemaSegment | DiscardSegment | BackfillBeginSegment | BackfillEndSegment;

export interface RowSegment {
  kind: 'rows';
  table: string;
  schema: TableSchema;
  /** File name inside the batch's spool directory (newline-delimited JSON, see staging/spool-format.ts). */
  file: string;
  rows: number;
  /** UTF-8 bytes of the longest line, at most (absent in batches staged by older versions). */
  maxLineBytes?: number;
}

export interface TruncateSegment {
  kind: 'truncate';
  table: string;
  schema: TableSchema;
  /**
   * The source did not say the table's shape at the TRUNCATE (a MySQL TRUNCATE carries none):
   * `schema` is the best known one, used only to create a table the destination does not have.
   */
  shapeOnlyIfNew?: boolean;
  position: string;
  commitTs: string | null;
  seq: number;
}

/**
 * Columns renamed at the source (MySQL/MariaDB `RENAME COLUMN`/`CHANGE`, known from the DDL text):
 * the destination renames them in place, so rows not touched since keep their values.
 */
export interface RenameSegment {
  kind: 'rename';
  table: string;
  renames: { from: string; to: string }[];
}

/**
 * A table's shape with no rows: the source changed the table (or created it) and wrote no row of
 * it since, so the stream carried no shape; the destination creates or evolves the table here.
 */
export interface SchemaSegment {
  kind: 'schema';
  table: string;
  schema: TableSchema;
}

/**
 * The rows an interrupted initial snapshot copied into a table (`__op = 'snapshot'` at
 * `position`, the snapshot's start): the snapshot starts over from a new consistent point, so
 * these go (they may be older or newer than that point).
 */
export interface DiscardSegment {
  kind: 'discard';
  table: string;
  /** The `__position` the interrupted snapshot's rows carry. */
  position: string;
}

/**
 * A table's incremental copy begins here (its first chunk's low watermark): in MERGE, the keys of
 * the table's live rows are remembered as "unseen"; every later change and copied row of the
 * table marks its key seen.
 */
export interface BackfillBeginSegment {
  kind: 'backfill-begin';
  table: string;
  /** The table's primary key columns (source names). */
  key: string[];
}

/**
 * A table's incremental copy is complete (its last chunk's high watermark): in MERGE, live rows
 * whose key was never seen since the copy began no longer exist at the source and end deleted,
 * at `position`. The table no longer needs a re-sync.
 */
export interface BackfillEndSegment {
  kind: 'backfill-end';
  table: string;
  /** The table's primary key columns (source names). */
  key: string[];
  position: string;
  commitTs: string | null;
}

export type OpCounts = Partial<Record<Op, number>>;

/** The full description of a staged batch, written as `manifest.json` beside its rows. */
export interface BatchManifest {
  pipeline: string;
  batchId: string;
  from: Checkpoint;
  to: Checkpoint;
  segments: Segment[];
  counts: Record<string, OpCounts>;
  events: number;
  bytes: number;
  /** Human-readable schema changes seen in this batch (new table, new column, type change). */
  schemaChanges: string[];
}

/**
 * What a capture returns through Temporal: small, no row data. The load finds the rows, and the
 * checkpoints the batch goes from and to, in `spoolDir` (its manifest).
 */
export interface BatchSummary {
  batchId: string;
  spoolDir: string;
  counts: Record<string, OpCounts>;
  events: number;
  bytes: number;
  /** Commit time of the newest change in the batch (ISO-8601), if any. */
  lastCommitTs: string | null;
  schemaChanges: string[];
}
