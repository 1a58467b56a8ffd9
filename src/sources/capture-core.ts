import type { BackfillProgress, Checkpoint, SnapshotProgress } from '../model/checkpoint.js';
import type { BatchLimits } from '../model/pipeline-spec.js';
import type { Position } from '../model/position.js';
import { SnapshotBudget } from './batch-rules.js';
import type { BatchSink, CaptureContext, CaptureOutcome } from './source-connector.js';

/** How often a capture heartbeats, whatever it waits for (a long chunk query, a blocked sink, a quiet stream). */
const HEARTBEAT_MS = 1_500;

/** The two ways a source reads a batch; `captureBatch` picks one. */
export interface CaptureSteps {
  /** Copies the next snapshot rows, as far as `budget` allows (see `snapshotOutcome`). */
  snapshot(from: Checkpoint, progress: SnapshotProgress, sink: BatchSink, budget: SnapshotBudget): Promise<CaptureOutcome>;
  /** Streams changes after `start` (the checkpoint's position, or the finished snapshot's start) within `limits`. */
  stream(from: Checkpoint, start: Position, sink: BatchSink, limits: BatchLimits): Promise<CaptureOutcome>;
}

/**
 * One capture of any source (`SourceConnector.capture`): snapshot chunks while the checkpoint's
 * snapshot is unfinished, then the change stream; heartbeats on a timer all along, so that no
 * wait starves them.
 */
export async function captureBatch(
  from: Checkpoint,
  sink: BatchSink,
  limits: BatchLimits,
  chunkRows: number,
  ctx: CaptureContext,
  steps: CaptureSteps,
): Promise<CaptureOutcome> {
  const beat = setInterval(() => ctx.heartbeat(), HEARTBEAT_MS);
  try {
    const snapshot = from.snapshot;
    if (snapshot !== undefined && snapshot.tables.some((t) => !t.done)) {
      return await steps.snapshot(from, snapshot, sink, new SnapshotBudget(limits, chunkRows, sink));
    }
    const start = from.position ?? snapshot?.startPosition ?? null;
    if (start === null) throw new Error('capture needs a checkpoint with a position or a snapshot plan');
    return await steps.stream(from, start, sink, limits);
  } finally {
    clearInterval(beat);
  }
}

/** The checkpoint after a snapshot chunk: the progress, or, once every table is copied, the snapshot's start position (streaming goes on from there). */
export function snapshotOutcome(from: Checkpoint, progress: SnapshotProgress, schemaChanges: string[]): CaptureOutcome {
  if (progress.tables.some((t) => !t.done)) return { to: { position: from.position, snapshot: progress, batchId: from.batchId }, schemaChanges };
  return { to: { position: progress.startPosition, batchId: from.batchId }, schemaChanges };
}

/**
 * The checkpoint after streaming to `to`, with the incremental copies' progress `backfill`: `from`
 * itself when nothing moved, so an idle batch changes nothing.
 */
export function streamOutcome(
  from: Checkpoint,
  to: Position,
  moved: boolean,
  schemaChanges: string[],
  backfill: BackfillProgress | undefined = from.backfill,
): CaptureOutcome {
  const first = from.position === null || from.snapshot !== undefined; // the first stream batch after a snapshot
  if (!moved && !first && backfill === from.backfill) return { to: from, schemaChanges };
  return { to: { position: to, batchId: from.batchId, ...(backfill === undefined ? {} : { backfill }) }, schemaChanges };
}

/**
 * A snapshot that starts over from a new consistent point (`next`, described as `nextAt`) because
 * the interrupted one can no longer be read: what that copy loaded (rows staged at `oldAt`) is
 * discarded in this batch. Returns the outcome and how many rows are discarded.
 */
export function snapshotStartedOver(
  from: Checkpoint,
  old: SnapshotProgress,
  oldAt: string,
  next: SnapshotProgress,
  nextAt: string,
  sink: BatchSink,
): { outcome: CaptureOutcome; discardedRows: number } {
  for (const t of old.tables) if (t.rows > 0) sink.discardSnapshot(t.table, oldAt);
  const discardedRows = old.tables.reduce((n, t) => n + t.rows, 0);
  return {
    outcome: {
      to: { position: null, batchId: from.batchId, snapshot: next },
      schemaChanges: [`initial snapshot started over at ${nextAt} after an interruption (${discardedRows} rows copied before are replaced)`],
    },
    discardedRows,
  };
}
