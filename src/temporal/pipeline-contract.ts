import type { Client, WorkflowHandle } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { flushSignal, MAX_REPAIR_KEYS, pauseSignal, reconfigureUpdate, resumeSignal, resyncUpdate, specQuery, statusQuery } from '../workflows/messages.js';
import { BATCHES_PER_RUN_MEMO, type PipelineStatus, type PipelineWorkflowInput } from '../workflows/pipeline-state.js';
import type { pipelineWorkflow } from '../workflows/pipeline-workflow.js';

/**
 * The pipeline workflow as its clients see it: its type, ids, input, signals and query, named
 * once here. The CLI, schedules and tests go through this module, never through string names.
 */

/** The workflow type the worker registers (the exported workflow function's name). */
export const PIPELINE_WORKFLOW_TYPE = 'pipelineWorkflow';

export { flushSignal, MAX_REPAIR_KEYS, pauseSignal, reconfigureUpdate, resumeSignal, resyncUpdate, specQuery, statusQuery };

/** The workflow id of a pipeline: one workflow per pipeline, fixed. */
export function workflowId(pipeline: string): string {
  return `ducktail-${pipeline}`;
}

/** The id of a pipeline's catch-up schedule. */
export function scheduleId(pipeline: string): string {
  return `ducktail-${pipeline}-catch-up`;
}

export type PipelineHandle = WorkflowHandle<typeof pipelineWorkflow>;

/** The handle of a pipeline's workflow (the latest run). */
export function pipelineHandle(client: Client, pipeline: string): PipelineHandle {
  return client.workflow.getHandle<typeof pipelineWorkflow>(workflowId(pipeline));
}

export interface PipelineStartOptions {
  /** For tests: continue as new after this many batches (default 1000). Goes in the memo, not the input. */
  batchesPerRun?: number;
  /** Search attributes to start with: only ones the server has registered (see `pipelineSearchAttributes`). */
  searchAttributes?: SearchAttributePair[];
}

/** Starts a pipeline's workflow; throws `WorkflowExecutionAlreadyStartedError` when it runs already. */
export function startPipelineWorkflow(
  client: Client,
  taskQueue: string,
  input: PipelineWorkflowInput,
  options: PipelineStartOptions = {},
): Promise<PipelineHandle> {
  const memo = options.batchesPerRun === undefined ? {} : { memo: { [BATCHES_PER_RUN_MEMO]: options.batchesPerRun } };
  const attributes = (options.searchAttributes ?? []).length === 0 ? {} : { typedSearchAttributes: options.searchAttributes };
  return client.workflow.start<typeof pipelineWorkflow>(PIPELINE_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: workflowId(input.spec.name),
    args: [input],
    ...memo,
    ...attributes,
  });
}

/** The running workflow's status (needs a worker to answer). */
export function queryStatus(handle: WorkflowHandle): Promise<PipelineStatus> {
  return handle.query(statusQuery);
}

export type { PipelineStatus, PipelineWorkflowInput };
