import { proxyActivities } from '@temporalio/workflow';
import type { LakeUpkeepInput, UpkeepActivities } from '../activities/activity-types.js';
import type { LakeUpkeepReport } from '../destinations/ducklake/ducklake-upkeep.js';

const { lakeUpkeep } = proxyActivities<UpkeepActivities>({
  // Compaction of a large lake takes long; a worker that dies is noticed by its missing heartbeats.
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
});

/**
 * One upkeep run of a pipeline's lake (compaction, snapshot expiry, cleanup of unused files),
 * started by the pipeline's upkeep schedule or by `ducktail upkeep NAME`; its result says what
 * was done.
 */
export async function lakeUpkeepWorkflow(input: LakeUpkeepInput): Promise<LakeUpkeepReport> {
  return await lakeUpkeep.executeWithOptions({ summary: `upkeep of ${input.spec.name}'s lake` }, [input]);
}
