import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PipelineSpec } from '../model/pipeline-spec.js';
import type { PipelineStatus } from './pipeline-state.js';

/** Stop loading after the current batch; the replication position is kept at the source. */
export const pauseSignal = defineSignal('pause');
/** Continue after a pause, or retry after a failure that needed a fix. */
export const resumeSignal = defineSignal('resume');
/**
 * Load what has been read now: a capture waiting for changes (long poll) ends at once, and for
 * about a minute captures do not wait, so the loaded position follows the source's closely
 * (`ducktail verify` sends it before it waits for the copy to catch up).
 */
export const flushSignal = defineSignal('flush');
/** Phase, position, lag, counts and last error. */
export const statusQuery = defineQuery<PipelineStatus>('status');

/** What `resync` is asked to copy again. */
export interface ResyncInput {
  /** Source tables, `schema.table` (`database.table` for MySQL/MariaDB). */
  tables: string[];
  /**
   * MERGE only: per table, copy only these primary keys (source text, key order; at most
   * `MAX_REPAIR_KEYS`), and delete those the source no longer has (`verify --repair`).
   */
  keys?: Record<string, string[][]>;
}

/** Keys a repair of one table may list; more differing keys re-sync the whole table. */
export const MAX_REPAIR_KEYS = 1_000;

export interface ResyncReply {
  /** The request's id (status shows its progress once taken in). */
  id: string;
  tables: string[];
}

/**
 * Copies tables again by incremental snapshot while streaming goes on; in MERGE mode rows the
 * source no longer has end deleted. Rejected (with why) for names that are not `schema.table`.
 */
export const resyncUpdate = defineUpdate<ResyncReply, [ResyncInput]>('resync');

/** The spec the pipeline runs with now (it may have been changed since the start, see `reconfigureUpdate`). */
export const specQuery = defineQuery<PipelineSpec>('spec');

export interface ReconfigureInput {
  /** The new spec: same name, source database, slot/publication, destination file and mode. */
  spec: PipelineSpec;
  /** Source tables the new spec adds: copied by incremental snapshot while the others stream. */
  added: string[];
}

export interface ReconfigureReply {
  /** The copy request of the added tables, if any. */
  requestId: string | null;
}

/**
 * Applies a changed spec to the running pipeline from the next batch on (`ducktail start` on a
 * running pipeline). Rejected, with the fix, when it changes what a running pipeline cannot.
 */
export const reconfigureUpdate = defineUpdate<ReconfigureReply, [ReconfigureInput]>('reconfigure');
