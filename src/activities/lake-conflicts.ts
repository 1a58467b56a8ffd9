import { setTimeout as sleep } from 'node:timers/promises';
import { LakeCommitConflictError } from '../errors.js';

/**
 * Attempts of one load in the activity before a lake commit conflict goes to Temporal's retry
 * (which waits a second or more): two writers of one lake lose about one commit in four to each
 * other (every load rewrites its row of the shared `_ducktail` tables), each lost commit needs
 * only to run again.
 */
export const LAKE_CONFLICT_ATTEMPTS = 10;

/**
 * Runs `apply` (an idempotent load of one batch with its checkpoint) again at once, after a short
 * random pause, while it loses its commit to another writer of the lake; `onConflict` hears of
 * each lost commit. The last conflict, or any other error, is thrown.
 */
export async function retryLakeConflicts<T>(apply: () => Promise<T>, onConflict: (attempt: number) => void = () => undefined): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await apply();
    } catch (err) {
      if (!(err instanceof LakeCommitConflictError) || attempt >= LAKE_CONFLICT_ATTEMPTS) throw err;
      onConflict(attempt);
      // Random, so two writers that collided do not collide again in step.
      await sleep(Math.floor(Math.random() * 100 * attempt));
    }
  }
}
