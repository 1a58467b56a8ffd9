import type { LakeUpkeepReport } from '../destinations/ducklake/ducklake-upkeep.js';
import type { BatchSummary, OpCounts } from '../model/batch.js';
import type { BackfillRequest, CheckpointView } from '../model/checkpoint.js';
import type { PipelineSpec } from '../model/pipeline-spec.js';
import type { Position } from '../model/position.js';
import type { SourceRetention } from '../model/retention.js';

export interface PreparePipelineInput {
  spec: PipelineSpec;
}

export interface PreparePipelineResult {
  /** The durable checkpoint (stored in DuckDB, created when missing). */
  checkpoint: CheckpointView;
  warnings: string[];
  tables: string[];
  /** The spec validated, with defaults filled: the workflow runs on it (its input may have been typed into the UI). Absent from older versions. */
  spec?: PipelineSpec;
  /** The task queue only the worker process that ran this polls: the pipeline's next captures and loads go there. */
  home?: string;
}

/** A capture starts from the checkpoint stored in DuckDB (the durable one), so its input carries none. */
export interface CaptureBatchInput {
  spec: PipelineSpec;
  /** Catch-up runs: stop once this source position is loaded. */
  until?: Position | null;
  /** Re-sync requests the checkpoint may not have taken in yet (taken in once, by id). */
  backfill?: BackfillRequest[];
  /** False: a capture that finds nothing returns after one short wait instead of long-polling (after a `flush`). */
  longPoll?: boolean;
}

export interface CaptureBatchResult {
  /** The staged batch, or null when nothing new arrived (or `until` was already reached). */
  batch: BatchSummary | null;
  /** The durable checkpoint: the one the capture started from, or the position it committed (a capture that only moved the position commits it itself). */
  checkpoint: CheckpointView;
  /** True when `until` is given and the durable checkpoint has reached it. */
  reachedTarget: boolean;
  /** The durable position formatted for people. */
  position: string | null;
  /**
   * Log bytes between the source's end of log and the position the capture reached (the staged
   * batch's end, else the durable position), measured when the capture ends; null when unknown.
   */
  lagBytes: number | null;
  /** What the source keeps for the pipeline from the durable checkpoint on; null when it cannot tell now. Absent from older versions. */
  retention?: SourceRetention | null;
  /** The task queue only the worker process that ran this polls (it holds the stream and the staged batch). */
  home?: string;
}

export interface LoadBatchInput {
  spec: PipelineSpec;
  batch: BatchSummary;
}

export interface LoadBatchResult {
  checkpoint: CheckpointView;
  skipped: boolean;
  /** Empty: the batch summary has the counts (older versions sent them here too). */
  counts: Record<string, OpCounts>;
  position: string | null;
  /** Tables that need a re-sync before they equal the source again, each with why (empty when none). */
  resync?: string[];
}

export interface SourcePositionInput {
  spec: PipelineSpec;
}

export interface ObserveSourceInput {
  spec: PipelineSpec;
  /** Wait this long first (heartbeating; a cancel ends the wait). */
  waitMs: number;
  /** The commit time of the last change loaded, when known (tells the age of the oldest binlog needed). */
  loadedCommitTs?: string | null;
}

export interface ObserveSourceResult {
  /** What the source keeps for the pipeline from its durable checkpoint on; null when it cannot tell now. */
  retention: SourceRetention | null;
}

export interface InterruptCaptureInput {
  pipeline: string;
}

export interface LakeUpkeepInput {
  spec: PipelineSpec;
}

/** The activity functions as the workflow sees them (implemented in create-activities.ts). */
export interface PipelineActivities {
  preparePipeline(input: PreparePipelineInput): Promise<PreparePipelineResult>;
  captureBatch(input: CaptureBatchInput): Promise<CaptureBatchResult>;
  loadBatch(input: LoadBatchInput): Promise<LoadBatchResult>;
  sourcePosition(input: SourcePositionInput): Promise<Position>;
  /** Measures what the source keeps for a paused pipeline (see `observeSource`). */
  observeSource(input: ObserveSourceInput): Promise<ObserveSourceResult>;
  /**
   * Ends the pipeline's capture if it runs in this worker process (a long poll returns at once,
   * with what it read); true when one did. Best effort, next to cancelling the capture activity.
   */
  interruptCapture(input: InterruptCaptureInput): Promise<boolean>;
}

export interface HomeLoadInput {
  /** The pipeline being placed: not counted, should it still be served here. */
  pipeline: string;
}

export interface HomeLoad {
  /** The worker process's own task queue. */
  home: string;
  /** Pipelines it serves now, other than the one being placed. */
  pipelines: number;
}

export interface ClaimHomeInput {
  pipeline: string;
  /** Claim only if the process serves at most this many other pipelines now (absent: claim anyway). */
  atMost?: number;
}

export interface ClaimHomeResult {
  claimed: boolean;
  home: string;
  pipelines: number;
}

/**
 * Where a pipeline is served (see the workflow's `placeHome`): the live worker processes, how
 * many pipelines each serves, and a claim on the least busy one.
 */
export interface PlacementActivities {
  /** The own task queues of the worker processes polling the shared queue now (empty: place by chance, as Temporal hands out the next activity). */
  liveHomes(): Promise<string[]>;
  /** Sent to one process's own queue: how many pipelines it serves. */
  homeLoad(input: HomeLoadInput): Promise<HomeLoad>;
  /** Sent to one process's own queue: makes it the pipeline's home unless it became busier than `atMost` meanwhile. */
  claimHome(input: ClaimHomeInput): Promise<ClaimHomeResult>;
}

/** The upkeep workflow's activity (see upkeep-workflow.ts). */
export interface UpkeepActivities {
  /** Compacts the pipeline's lake, expires old snapshots and deletes unused files (see ducklake-upkeep.ts). */
  lakeUpkeep(input: LakeUpkeepInput): Promise<LakeUpkeepReport>;
}

/** Every activity a worker registers. */
export type WorkerActivities = PipelineActivities & UpkeepActivities & PlacementActivities;
