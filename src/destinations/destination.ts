import type { BatchManifest } from '../model/batch.js';
import type { Checkpoint } from '../model/checkpoint.js';
import type { OpCounts } from '../model/batch.js';
import type { WriteMode } from '../model/pipeline-spec.js';

export interface ApplyOptions {
  mode: WriteMode;
  /** Directory holding the batch's `manifest.json` and segment files. */
  spoolDir: string;
  /** Called every few seconds while the load runs. */
  heartbeat(): void;
}

export interface ApplyResult {
  /** True when the batch had already been applied (checkpoint equal to `manifest.to`): nothing changed. */
  skipped: boolean;
  checkpoint: Checkpoint;
  counts: Record<string, OpCounts>;
  /** Tables of the pipeline that need a re-sync before they equal the source again, each with why. */
  resync: string[];
}

/**
 * The DuckDB side of a pipeline. One instance per database file per process; calls for one
 * file are serialised by the implementation.
 */
export interface Destination {
  /** The stored checkpoint of `pipeline`, or null when nothing was loaded yet. */
  readCheckpoint(pipeline: string): Promise<Checkpoint | null>;

  /**
   * Stores `initial` as the pipeline's checkpoint unless one is stored already; returns the
   * stored one. Creates the `_ducktail` schema and tables when missing.
   */
  initCheckpoint(pipeline: string, initial: Checkpoint): Promise<Checkpoint>;

  /**
   * Applies a staged batch and writes `manifest.to` as the checkpoint, in one transaction.
   * Idempotent: when the stored checkpoint already equals `manifest.to` nothing changes
   * (`skipped`). Throws `StaleBatchError` when the stored checkpoint is neither `from` nor `to`.
   * Evolves tables first (new tables, added columns, widened types); never drops a column.
   */
  applyBatch(manifest: BatchManifest, options: ApplyOptions): Promise<ApplyResult>;

  /**
   * Records the pipeline's write mode in the file. Throws `ConfigError` (with the fix) when the
   * file holds this pipeline's tables in the other mode. Idempotent.
   */
  registerPipeline(pipeline: string, mode: WriteMode): Promise<void>;

  /** Removes the pipeline's checkpoint and internal state (tables with data are kept). */
  forgetPipeline(pipeline: string): Promise<void>;

  close(): Promise<void>;
}
