import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { PipelineSpec } from '../model/pipeline-spec.js';
import type { PipelineWorkflowInput } from '../workflows/pipeline-state.js';
import { workflowId } from './context.js';

export type StartOutcome = 'started' | 'already-running';

/** Starts a pipeline's workflow unless it runs already. The spec carries no secret. */
export async function startPipeline(
  client: Client,
  taskQueue: string,
  spec: PipelineSpec,
  options: { catchUp?: boolean } = {},
): Promise<StartOutcome> {
  const input: PipelineWorkflowInput = { spec, ...(options.catchUp === true ? { catchUp: true } : {}) };
  try {
    await client.workflow.start('pipelineWorkflow', {
      taskQueue,
      workflowId: workflowId(spec.name),
      args: [input],
    });
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'already-running';
    throw err;
  }
}
