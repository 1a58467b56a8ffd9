import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PipelineStatus } from './pipeline-state.js';

/** Stop loading after the current batch; the replication position is kept at the source. */
export const pauseSignal = defineSignal('pause');
/** Continue after a pause, or retry after a failure that needed a fix. */
export const resumeSignal = defineSignal('resume');
/** Phase, position, lag, counts and last error. */
export const statusQuery = defineQuery<PipelineStatus>('status');
