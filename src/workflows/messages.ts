import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PipelineStatus } from './pipeline-state.js';

/** Stop loading after the current batch; the replication position is kept at the source. */
export const pauseSignal = defineSignal('pause');
/** Continue after a pause, or retry after a failure that needed a fix. */
export const resumeSignal = defineSignal('resume');
/** Phase, position, lag, counts and last error. */
export const statusQuery = defineQuery<PipelineStatus>('status');

/** What `resync` is asked to copy again. */
export interface ResyncInput {
  /** Source tables, `schema.table` (`database.table` for MySQL/MariaDB). */
  tables: string[];
}

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
