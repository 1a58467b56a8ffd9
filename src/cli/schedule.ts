import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { ConfigError } from '../errors.js';
import { INTERVAL_HINT, parseInterval, type Interval } from '../model/interval.js';
import type { PipelineSpec } from '../model/pipeline-spec.js';
import type { PipelineWorkflowInput } from '../workflows/pipeline-state.js';
import { PIPELINE_WORKFLOW_TYPE, scheduleId, workflowId } from '../temporal/pipeline-contract.js';
import { pipelineSearchAttributes } from '../temporal/search-attributes.js';

export { scheduleId };

/**
 * Creates (or replaces) a Temporal Schedule that starts a catch-up run of the pipeline every
 * `every` (e.g. `1h`, `15m`): each run loads what the source had when it started, then completes.
 * Overlapping runs are skipped. Meant for pipelines that do not also run continuously.
 */
export async function schedulePipeline(client: Client, taskQueue: string, spec: PipelineSpec, every: string): Promise<'created' | 'updated'> {
  const input: PipelineWorkflowInput = { spec, catchUp: true };
  const interval = scheduleInterval(every);
  const attributes = await pipelineSearchAttributes(client, spec);
  const options = {
    scheduleId: scheduleId(spec.name),
    spec: { intervals: [{ every: interval }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: PIPELINE_WORKFLOW_TYPE,
      taskQueue,
      workflowId: workflowId(spec.name),
      args: [input],
      ...(attributes.length === 0 ? {} : { typedSearchAttributes: attributes }),
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
  };
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(options.scheduleId).update((previous) => ({ ...previous, spec: options.spec, action: options.action }));
    return 'updated';
  }
}

/** Deletes the pipeline's catch-up schedule; false when there was none. */
export async function unschedulePipeline(client: Client, pipeline: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(scheduleId(pipeline)).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

function scheduleInterval(every: string): Interval {
  const interval = parseInterval(every);
  if (interval === null) throw new ConfigError(`--every ${JSON.stringify(every)} is not an interval`, INTERVAL_HINT);
  return interval;
}
