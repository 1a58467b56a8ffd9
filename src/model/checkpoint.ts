import type { Position } from './position.js';

/** Progress of one table's initial copy. `lastKey` holds the primary key of the last row copied, as text. */
export interface TableSnapshotProgress {
  table: string;
  done: boolean;
  rows: number;
  lastKey?: (string | null)[];
}

/**
 * Progress of the initial snapshot. `startPosition` is the stream position the copy is consistent
 * with: streaming begins there once every table is done.
 */
export interface SnapshotProgress {
  startPosition: Position;
  tables: TableSnapshotProgress[];
  /** False once a crash interrupted the exported snapshot and later chunks were read outside it. */
  consistent: boolean;
}

/** Why a table is copied again while streaming goes on. */
export type BackfillReason = 'resync' | 'added' | 'repair';

/**
 * One table's incremental copy (see src/sources/backfill.ts): primary-key chunks read between two
 * watermarks written to the change stream, while streaming goes on.
 */
export interface TableBackfill {
  table: string;
  reason: BackfillReason;
  /** Rows copied and chunks loaded so far. */
  rows: number;
  chunks: number;
  /** Primary key of the last row copied, as the source's text; absent before the first chunk. */
  lastKey?: (string | null)[];
  /** Rows the table had when the copy began (the source's estimate), for progress. */
  estimate?: number;
  /** When the first chunk was read (ISO-8601), for progress. */
  startedAt?: string;
  /**
   * Only these keys (source text, primary-key order; `verify --repair`): read in one chunk, and in
   * MERGE those the source no longer has end deleted. Absent: the whole table.
   */
  keys?: string[][];
}

/** Tables being copied again while streaming, one at a time in order, and the requests taken in. */
export interface BackfillProgress {
  tables: TableBackfill[];
  /** Ids of the latest requests taken into `tables` (so a request is taken once). */
  accepted: string[];
}

/** A request to copy tables again (`ducktail resync`, or tables added to a running pipeline). */
export interface BackfillRequest {
  id: string;
  tables: string[];
  reason: BackfillReason;
  /** Per table: only these keys (see `TableBackfill.keys`). */
  keys?: Record<string, string[][]>;
}

/**
 * What has been durably loaded into DuckDB for a pipeline: the truth after any restart.
 * Stored in `_ducktail.checkpoints` in the same transaction as the rows it covers.
 */
export interface Checkpoint {
  /** Last stream position loaded; null until streaming has begun. */
  position: Position | null;
  /** Present while the initial snapshot is still running. */
  snapshot?: SnapshotProgress;
  /** Present while tables are copied again while streaming (resync, added tables). */
  backfill?: BackfillProgress;
  /** Id of the batch that wrote this checkpoint ('' for the initial one). */
  batchId: string;
}

/**
 * What the workflow keeps of a checkpoint: activities return this, not the checkpoint itself, so a
 * batch cycle's history stays small whatever the number of tables (a snapshot's progress names
 * every table; the capture reads the whole checkpoint from DuckDB anyway).
 */
export interface CheckpointView {
  position: Position | null;
  batchId: string;
  /** While the initial snapshot runs: the tables being copied now, and totals. */
  snapshot?: {
    tables: TableSnapshotProgress[];
    /** Absent in views kept by older versions (their `tables` lists every table). */
    total?: number;
    done?: number;
    rows?: number;
  };
  backfill?: BackfillProgress;
}

/** The workflow's view of `checkpoint` (see `CheckpointView`). */
export function checkpointView(checkpoint: Checkpoint): CheckpointView {
  const view: CheckpointView = { position: checkpoint.position, batchId: checkpoint.batchId };
  const snap = checkpoint.snapshot;
  if (snap !== undefined) {
    view.snapshot = {
      tables: snap.tables.filter((t) => !t.done && t.rows > 0).map((t) => ({ table: t.table, done: t.done, rows: t.rows })),
      total: snap.tables.length,
      done: snap.tables.filter((t) => t.done).length,
      rows: snap.tables.reduce((n, t) => n + t.rows, 0),
    };
  }
  const backfill = checkpoint.backfill;
  if (backfill !== undefined) {
    // Keys to repair stay in DuckDB: the view says how many.
    view.backfill = { ...backfill, tables: backfill.tables.map(({ keys, ...t }) => (keys === undefined ? t : { ...t, estimate: keys.length })) };
  }
  return view;
}

/** Canonical JSON of a checkpoint, for equality checks (never ordering). */
export function checkpointKey(checkpoint: Checkpoint | null): string {
  return checkpoint === null ? 'null' : canonicalJson(checkpoint);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
