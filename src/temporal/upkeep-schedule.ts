import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription } from '@temporalio/client';
import { parseInterval } from '../model/interval.js';
import { isLake, upkeepSettings, type PipelineSpec } from '../model/pipeline-spec.js';
import type { LakeUpkeepInput } from '../activities/activity-types.js';
import type { LakeUpkeepReport } from '../destinations/ducklake/ducklake-upkeep.js';
import type { lakeUpkeepWorkflow } from '../workflows/upkeep-workflow.js';

/** The workflow type of one upkeep run (the exported workflow function's name). */
export const UPKEEP_WORKFLOW_TYPE = 'lakeUpkeepWorkflow';

/** The id of a lake pipeline's upkeep schedule; its runs' workflow ids start with it. */
export function upkeepScheduleId(pipeline: string): string {
  return `ducktail-${pipeline}-upkeep`;
}

/**
 * Makes the pipeline's upkeep schedule match its spec: created for a lake pipeline with upkeep
 * on, updated when its interval or spec changed, deleted when upkeep is off; a DuckDB file has
 * none. Overlapping runs are skipped. Returns what was done.
 */
export async function ensureUpkeepSchedule(client: Client, taskQueue: string, spec: PipelineSpec): Promise<'created' | 'updated' | 'unchanged' | 'deleted' | 'none'> {
  const settings = isLake(spec.destination) ? upkeepSettings(spec.destination) : null;
  if (settings === null) return (await removeUpkeepSchedule(client, spec.name)) ? 'deleted' : 'none';
  const every = parseInterval(settings.every);
  if (every === null) throw new Error(`destination.upkeep.every ${settings.every} is not an interval`);
  const input: LakeUpkeepInput = { spec };
  const id = upkeepScheduleId(spec.name);
  const action = {
    type: 'startWorkflow' as const,
    workflowType: UPKEEP_WORKFLOW_TYPE,
    taskQueue,
    workflowId: id,
    args: [input],
  };
  const scheduleSpec = { intervals: [{ every }] };
  try {
    await client.schedule.create({ scheduleId: id, spec: scheduleSpec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(id);
  const now = await handle.describe();
  if (sameSchedule(now, taskQueue, every, input)) return 'unchanged';
  await handle.update((previous) => ({ ...previous, spec: scheduleSpec, action }));
  return 'updated';
}

function sameSchedule(d: ScheduleDescription, taskQueue: string, every: string, input: LakeUpkeepInput): boolean {
  const interval = d.spec.intervals?.[0];
  return (
    d.action.type === 'startWorkflow' &&
    d.action.taskQueue === taskQueue &&
    interval !== undefined &&
    Number(interval.every) === everyMs(every) &&
    JSON.stringify(d.action.args) === JSON.stringify([input])
  );
}

function everyMs(every: string): number {
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[every.slice(-1) as 's' | 'm' | 'h' | 'd'];
  return Number(every.slice(0, -1)) * unit;
}

/** Deletes the pipeline's upkeep schedule; false when there was none. */
export async function removeUpkeepSchedule(client: Client, pipeline: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(upkeepScheduleId(pipeline)).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** Runs upkeep of the pipeline's lake now (a workflow on the task queue's workers) and waits for its report. */
export async function runUpkeepNow(client: Client, taskQueue: string, spec: PipelineSpec): Promise<LakeUpkeepReport> {
  return await client.workflow.execute<typeof lakeUpkeepWorkflow>(UPKEEP_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: `${upkeepScheduleId(spec.name)}-now-${Date.now()}`,
    args: [{ spec }],
  });
}
