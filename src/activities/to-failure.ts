import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { DucktailError, RepeatedFailureError } from '../errors.js';

/**
 * Attempts after which an activity error that is not known to be transient stops being retried.
 * With the workflow's retry policy (1 s, doubling) the sixth attempt fails about 30 s after the
 * first: long enough to ride out a hiccup, short enough that a stall shows as `failed` in status.
 */
export const REPEATED_FAILURE_ATTEMPTS = 6;

export interface AsActivityOptions {
  /** See `REPEATED_FAILURE_ATTEMPTS`. */
  repeatedFailureAttempts?: number;
}

/**
 * Unclassified failures in a row per activity execution, as seen by this worker process. A
 * transient (retryable Ducktail) failure or a success in between resets the count, so an outage
 * followed by one odd error does not park the pipeline. After a worker restart the count starts
 * again: parking then takes `repeatedFailureAttempts` more attempts.
 */
const unclassifiedInARow = new Map<string, number>();
const MAX_TRACKED = 1_000;

/**
 * Runs an activity body, turning a DucktailError into an ApplicationFailure the workflow can
 * branch on. Errors Ducktail knows to be transient (retryable DucktailErrors: source unreachable,
 * DuckDB file busy) are retried for as long as they last; any other error is retried until it
 * has failed `repeatedFailureAttempts` attempts in a row, then it becomes a non-retryable
 * `RepeatedFailure` that parks the pipeline in `failed` with the error, instead of a silent stall.
 */
export async function asActivity<T>(body: () => Promise<T>, options: AsActivityOptions = {}): Promise<T> {
  const ctx = activityContext();
  const key = ctx === null ? null : executionKey(ctx);
  try {
    const result = await body();
    if (key !== null) unclassifiedInARow.delete(key);
    return result;
  } catch (err) {
    if (err instanceof DucktailError) {
      if (key !== null) unclassifiedInARow.delete(key);
      throw toApplicationFailure(err);
    }
    if (err instanceof CancelledFailure || (err instanceof ApplicationFailure && err.nonRetryable)) throw err;
    if (ctx === null || key === null || ctx.cancellationSignal.aborted) throw err;
    const inARow = (unclassifiedInARow.get(key) ?? 0) + 1;
    unclassifiedInARow.delete(key); // re-inserted last: the oldest entries are pruned first
    if (unclassifiedInARow.size >= MAX_TRACKED) unclassifiedInARow.delete(unclassifiedInARow.keys().next().value ?? '');
    const limit = options.repeatedFailureAttempts ?? REPEATED_FAILURE_ATTEMPTS;
    const { attempt, activityType, workflowExecution } = ctx.info;
    if (inARow < limit || attempt < limit) {
      unclassifiedInARow.set(key, inARow);
      throw err;
    }
    const pipeline = (workflowExecution?.workflowId ?? 'ducktail-?').replace(/^ducktail-/, '');
    const last = err instanceof Error ? err.message : String(err);
    throw toApplicationFailure(
      new RepeatedFailureError(
        `${activityType} of pipeline ${pipeline} failed ${inARow} attempts in a row with an error that is not known to be transient; last error: ${last}`,
        `fix the cause, then \`ducktail resume ${pipeline}\` (the batch is retried from the checkpoint in DuckDB; nothing is lost)`,
      ),
      err,
    );
  }
}

function executionKey(ctx: Context): string {
  const { workflowExecution, activityId } = ctx.info;
  return `${workflowExecution?.workflowId ?? ''}/${workflowExecution?.runId ?? ''}/${activityId}`;
}

function toApplicationFailure(err: DucktailError, cause: unknown = err): ApplicationFailure {
  return ApplicationFailure.create({
    message: err.message,
    type: err.type,
    nonRetryable: err.nonRetryable,
    cause: cause instanceof Error ? cause : undefined,
  });
}

function activityContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null; // called outside an activity (tests)
  }
}
