import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { PipelineMetrics } from '../metrics/metrics.js';
import type { PipelineActivities } from './activity-types.js';

/**
 * The pipeline activities, recording metrics of what they did: lag seen by captures, durations,
 * the changes of each committed load, and every failed attempt by the failure type the activity
 * gives the workflow. Counters move only on a load that committed (a replayed batch skipped as
 * already applied counts nothing), so they stay right across retries and worker restarts.
 */
export function observeActivities(activities: PipelineActivities, metrics: PipelineMetrics, now: () => number = Date.now): PipelineActivities {
  /** Runs one activity attempt, counting its failure, if any, under `pipeline`. */
  async function observed<T>(pipeline: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (err) {
      if (!cancelled(err)) metrics.failure(pipeline, failureType(err));
      throw err;
    }
  }

  return {
    preparePipeline: (input) => observed(pipelineName(input.spec), () => activities.preparePipeline(input)),

    captureBatch: (input) =>
      observed(input.spec.name, async () => {
        const started = now();
        const result = await activities.captureBatch(input);
        const pipeline = input.spec.name;
        if (result.lagBytes !== null) metrics.lagBytes(pipeline, result.lagBytes);
        if (result.retention?.bytes != null) metrics.sourceRetained(pipeline, result.retention.bytes);
        // An empty capture waits for changes: its duration says nothing about the work.
        if (result.batch !== null) metrics.stepDuration(pipeline, 'capture', (now() - started) / 1000);
        else if (!result.reachedTarget) metrics.lagSeconds(pipeline, 0);
        return result;
      }),

    loadBatch: (input) =>
      observed(input.spec.name, async () => {
        const started = now();
        const result = await activities.loadBatch(input);
        const { batch, spec } = input;
        metrics.stepDuration(spec.name, 'load', (now() - started) / 1000);
        if (!result.skipped) metrics.batchLoaded(spec.name, batch.counts);
        if (batch.lastCommitTs !== null) metrics.lagSeconds(spec.name, Math.max(0, (now() - Date.parse(batch.lastCommitTs)) / 1000));
        return result;
      }),

    sourcePosition: (input) => observed(input.spec.name, () => activities.sourcePosition(input)),

    interruptCapture: (input) => activities.interruptCapture(input),

    // While a pipeline is paused, this is what keeps its retained-bytes gauge current.
    observeSource: (input) =>
      observed(input.spec.name, async () => {
        const result = await activities.observeSource(input);
        if (result.retention?.bytes != null) metrics.sourceRetained(input.spec.name, result.retention.bytes);
        return result;
      }),
  };
}

/** The failure type the workflow sees: an `ApplicationFailure`'s type, else the error's class name. */
export function failureType(err: unknown): string {
  if (err instanceof ApplicationFailure) return err.type ?? 'ApplicationFailure';
  if (err instanceof Error) return err.name;
  return 'Error';
}

/** A cancelled activity (graceful stop, worker shutdown) has not failed. */
function cancelled(err: unknown): boolean {
  if (err instanceof CancelledFailure) return true;
  try {
    return Context.current().cancellationSignal.aborted;
  } catch {
    return false; // outside an activity (unit tests)
  }
}

/** Workflow input may have been typed into the Temporal UI: its name may be missing. */
function pipelineName(spec: unknown): string {
  const name = (spec as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' && name !== '' ? name : 'unknown';
}
