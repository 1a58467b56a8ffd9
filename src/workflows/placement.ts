import { proxyActivities, sleep, type ActivityInterfaceFor } from '@temporalio/workflow';
import type { HomeLoad, PlacementActivities } from '../activities/activity-types.js';

/**
 * How long a placement activity may wait on a process's own queue: one not taken by then means
 * that process is gone (a live one polls at once). The same wait as a pipeline's home worker's.
 */
const TAKEN_WITHIN = '3s';

/** Rounds of counting and claiming before the least busy process is claimed whatever it serves. */
const ROUNDS = 4;

const anyProcess = proxyActivities<PlacementActivities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 1 } });

function onProcess(queue: string): ActivityInterfaceFor<PlacementActivities> {
  return proxyActivities<PlacementActivities>({ taskQueue: queue, scheduleToStartTimeout: TAKEN_WITHIN, startToCloseTimeout: '10s', retry: { maximumAttempts: 1 } });
}

/**
 * Chooses the worker process that serves `pipeline` from now on: the one serving the fewest
 * pipelines among those polling the task queue (ties drawn at random), so pipelines spread evenly
 * over the workers as they start and as they move off a dead one. Each process counts its own
 * pipelines; a claim is declined when another placement got there first, and the pipeline is
 * placed again after a short random pause. `gone` is a process known to be gone (its queue was
 * not served in time). Undefined when no process can be asked (workers of
 * older versions, an error): the next activity then goes to any worker, which becomes the home.
 */
export async function placeHome(pipeline: string, gone?: string): Promise<string | undefined> {
  // A process that just failed to take an activity may still be listed among the pollers for a while.
  const homes = (await anyProcess.liveHomes.executeWithOptions({ summary: 'find the live workers, to place the pipeline on the least busy' }, []).catch(() => [])).filter((h) => h !== gone);
  for (let round = 0; homes.length > 0 && round < ROUNDS; round++) {
    const loads = (
      await Promise.all(homes.map((h) => onProcess(h).homeLoad.executeWithOptions({ summary: `pipelines served by ${h}` }, [{ pipeline }]).catch(() => null)))
    ).filter((l): l is HomeLoad => l !== null);
    if (loads.length === 0) return undefined;
    const least = Math.min(...loads.map((l) => l.pipelines));
    const fewest = loads.filter((l) => l.pipelines === least);
    const pick = fewest[Math.floor(Math.random() * fewest.length)]!; // workflow randomness: replays draw the same
    const last = round === ROUNDS - 1;
    const claim = await onProcess(pick.home)
      .claimHome.executeWithOptions({ summary: `place ${pipeline} on ${pick.home}` }, [{ pipeline, ...(last ? {} : { atMost: least }) }])
      .catch(() => null);
    if (claim?.claimed === true) return claim.home;
    await sleep(100 + Math.floor(Math.random() * 400));
  }
  return undefined;
}
