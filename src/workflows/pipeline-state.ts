import type { OpCounts } from '../model/batch.js';
import type { BackfillProgress, BackfillRequest, CheckpointView } from '../model/checkpoint.js';
import type { PipelineSpec } from '../model/pipeline-spec.js';
import type { Position } from '../model/position.js';
import type { SourceRetention } from '../model/retention.js';

export type PipelinePhase =
  | 'starting'
  | 'snapshot'
  | 'streaming'
  | 'paused'
  | 'failed'
  | 'stopped'
  | 'caught-up';

/** The activity step the workflow is waiting for (Temporal may be retrying it meanwhile). */
export interface CurrentStep {
  activity: string;
  /** When the step's first attempt was scheduled (workflow time). */
  since: string;
}

export interface LastError {
  type: string;
  message: string;
  at: string;
}

/** Everything the workflow remembers; plain JSON, carried across continue-as-new. */
export interface PipelineState {
  phase: PipelinePhase;
  paused: boolean;
  /** The loaded checkpoint as activities report it (see `CheckpointView`). */
  checkpoint: CheckpointView | null;
  position: string | null;
  batches: number;
  events: number;
  counts: Record<string, OpCounts>;
  lagBytes: number | null;
  /** Seconds between now and the commit time of the newest change loaded, when behind. */
  lagSeconds: number | null;
  lastCommitTs: string | null;
  lastBatchAt: string | null;
  /** Changes in the last batch loaded. Absent in state from older runs. */
  lastBatchEvents?: number;
  lastError: LastError | null;
  /** The step in progress, or null between steps. Absent in state carried from older runs. */
  step?: CurrentStep | null;
  schemaChanges: string[];
  warnings: string[];
  /**
   * Tables whose copy the source changed without change events (e.g. a column added with a
   * volatile default), each with why: they need a re-sync. Absent in state from older runs.
   */
  resync?: string[];
  /** Re-sync requests not yet taken into the checkpoint (see `Checkpoint.backfill`). Absent in state from older runs. */
  backfillRequests?: BackfillRequest[];
  /**
   * Bytes of WAL / binlog the source keeps for the pipeline (see `retention`), measured with every
   * capture and, while paused, every `retention.checkSeconds`; null until known. Absent in state from older runs.
   */
  sourceRetainedBytes?: number | null;
  /** The last measurement of what the source keeps, with its warnings. Absent in state from older runs. */
  retention?: SourceRetention | null;
  catchUpTarget: Position | null;
  startedAt: string;
  runs: number;
  /**
   * The task queue of the worker process serving the pipeline (it holds the stream and the staged
   * batches; see src/worker.ts), absent until one reported it or after it went away.
   */
  home?: string;
}

export interface PipelineWorkflowInput {
  spec: PipelineSpec;
  /** Run until the source position seen at start is loaded, then complete (scheduled catch-up runs). */
  catchUp?: boolean;
  /** Carried by continue-as-new; leave empty when starting. */
  state?: PipelineState;
}

/** Batches per run before continuing as new, even if the server has not suggested it yet. */
export const DEFAULT_BATCHES_PER_RUN = 1000;

/** The memo field tests set to continue as new after fewer batches; no part of the input. */
export const BATCHES_PER_RUN_MEMO = 'batchesPerRun';

/** Batches per run: the memo's `batchesPerRun` when it is a positive integer, else the default. */
export function batchesPerRun(memo: Record<string, unknown> | undefined): number {
  const n = memo?.[BATCHES_PER_RUN_MEMO];
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : DEFAULT_BATCHES_PER_RUN;
}

/** What the `status` query returns. */
export interface PipelineStatus extends PipelineState {
  pipeline: string;
  mode: PipelineSpec['mode'];
  source: string;
  destination: string;
  /** While snapshotting: tables done / total and rows copied. */
  snapshotProgress?: string;
  /** While tables are copied again (resync, added tables): the table, rows copied, chunks, time left; queued tables. */
  backfillProgress?: string;
  /** `retention.warnBytes` of the spec: `status` warns when the source keeps more. Absent from older versions. */
  retentionWarnBytes?: number;
}

export function describeSnapshot(state: PipelineState): string | undefined {
  const snap = state.checkpoint?.snapshot;
  if (snap === undefined) return undefined;
  const done = snap.done ?? snap.tables.filter((t) => t.done).length;
  const rows = snap.rows ?? snap.tables.reduce((n, t) => n + t.rows, 0);
  return `${done}/${snap.total ?? snap.tables.length} tables, ${rows} rows copied`;
}

/** Progress of the copies, for `status`: `public.t: 3,000/10,000 rows (3 chunks)`. */
export function describeBackfill(progress: BackfillProgress | undefined, nowMs: number): string | undefined {
  if (progress === undefined || progress.tables.length === 0) return undefined;
  const [first, ...queued] = progress.tables;
  if (first === undefined) return undefined;
  const of = first.estimate !== undefined ? `/~${first.estimate.toLocaleString('en-US')}` : '';
  let eta = '';
  if (first.startedAt !== undefined && first.estimate !== undefined && first.rows > 0) {
    const perMs = first.rows / Math.max(1, nowMs - Date.parse(first.startedAt));
    const left = Math.max(0, first.estimate - first.rows);
    eta = `, about ${Math.ceil(left / perMs / 1000)} s left`;
  }
  const rest = queued.length > 0 ? `; queued: ${queued.map((t) => t.table).join(', ')}` : '';
  return `${first.table} (${first.reason}): ${first.rows.toLocaleString('en-US')}${of} rows copied in ${first.chunks} chunks${eta}${rest}`;
}

export function initialState(now: string): PipelineState {
  return {
    phase: 'starting',
    paused: false,
    checkpoint: null,
    position: null,
    batches: 0,
    events: 0,
    counts: {},
    lagBytes: null,
    lagSeconds: null,
    lastCommitTs: null,
    lastBatchAt: null,
    lastError: null,
    step: null,
    schemaChanges: [],
    warnings: [],
    catchUpTarget: null,
    startedAt: now,
    runs: 1,
  };
}

/** Adds per-table, per-op counts into `total` (mutates and returns it). */
export function addCounts(total: Record<string, OpCounts>, more: Record<string, OpCounts>): Record<string, OpCounts> {
  for (const [table, ops] of Object.entries(more)) {
    const into = (total[table] ??= {});
    for (const [op, n] of Object.entries(ops) as [keyof OpCounts, number][]) into[op] = (into[op] ?? 0) + n;
  }
  return total;
}

/** Keeps the newest `max` entries. */
export function keepLast<T>(list: T[], more: T[], max: number): T[] {
  return [...list, ...more].slice(-max);
}
