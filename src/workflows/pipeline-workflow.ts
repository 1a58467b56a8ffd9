import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  makeContinueAsNewFunc,
  patched,
  uuid4,
  proxyActivities,
  setHandler,
  allHandlersFinished,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { PipelineActivities } from '../activities/activity-types.js';
import { describeDestination, type PipelineSpec } from '../model/pipeline-spec.js';
import type { BatchSummary } from '../model/batch.js';
import { retentionSettings, type SourceRetention } from '../model/retention.js';
import { captureSummary, loadSummary, type PipelineWhere } from './pipeline-details.js';
import { checkInputShape, INVALID_SPEC, invalidInput } from './pipeline-input.js';
import { carriedSearchAttributes } from './search-attributes.js';
import { UiReporter } from './ui-reporter.js';
import { placeHome } from './placement.js';
import { flushSignal, MAX_REPAIR_KEYS, pauseSignal, reconfigureUpdate, resumeSignal, resyncUpdate, specQuery, statusQuery, type ReconfigureInput, type ResyncInput } from './messages.js';
import {
  addCounts,
  batchesPerRun as batchesPerRunOf,
  describeBackfill,
  describeSnapshot,
  initialState,
  keepLast,
  type PipelineState,
  type PipelineStatus,
  type PipelineWorkflowInput,
} from './pipeline-state.js';

const { preparePipeline, sourcePosition } = proxyActivities<PipelineActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

const batchActivity = {
  startToCloseTimeout: '2 hours',
  // A worker that dies mid-batch is noticed this long after its last heartbeat; another attempt
  // (on any worker of the queue) then starts from the durable checkpoint.
  heartbeatTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
} as const;

const { loadBatch, observeSource } = proxyActivities<PipelineActivities>(batchActivity);

// A capture that finds nothing waits (long poll); the workflow cancels it to take in a pause, a
// stop or a re-sync request, and it then returns what it read: wait for that result.
const { captureBatch } = proxyActivities<PipelineActivities>({ ...batchActivity, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED });

const interruptOptions = { scheduleToCloseTimeout: '30s', retry: { maximumAttempts: 1 } } as const;
const { interruptCapture } = proxyActivities<PipelineActivities>(interruptOptions);

/** The activities that read or load a pipeline's batches, on one task queue. */
interface BatchActivities {
  captureBatch: typeof captureBatch;
  loadBatch: typeof loadBatch;
  interruptCapture: typeof interruptCapture;
}

/** On the shared task queue: any worker. */
const anyWorker: BatchActivities = { captureBatch, loadBatch, interruptCapture };

/**
 * How long an activity may wait on its home worker's queue: one not taken by then means that
 * worker process is gone (a live one polls at once), and the pipeline moves to any other.
 */
const HOME_WAIT = '3s';

/** On the task queue only one worker process polls (see src/worker.ts). */
function homeWorker(queue: string): BatchActivities {
  const home = { taskQueue: queue, scheduleToStartTimeout: HOME_WAIT } as const;
  return {
    captureBatch: proxyActivities<PipelineActivities>({ ...batchActivity, ...home, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED }).captureBatch,
    loadBatch: proxyActivities<PipelineActivities>({ ...batchActivity, ...home }).loadBatch,
    interruptCapture: proxyActivities<PipelineActivities>({ ...interruptOptions, taskQueue: queue }).interruptCapture,
  };
}

/** True when an activity was never taken from its queue in time (its home worker is gone). */
function notTaken(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_START';
}

/**
 * Marks runs whose captures and loads go to the worker process that ran the pipeline's last
 * capture (it holds the replication stream, the batch read ahead and the staged batch).
 */
const HOME_WORKER = 'home-worker';

/**
 * Marks runs that choose a pipeline's home worker (the least busy live one, see placement.ts)
 * rather than taking whichever worker ran its first activity.
 */
const PLACED_HOME = 'placed-home';

/** Marks runs whose idle captures the workflow interrupts (runs started before it never do, so their histories replay). */
const INTERRUPTIBLE_CAPTURE = 'interruptible-capture';

/** Marks runs where an interrupted capture that then failed (e.g. timed out on a dead worker) is captured again, not fatal. */
const INTERRUPTED_CAPTURE_TIMEOUT = 'interrupted-capture-timeout';

/** Captures without a long poll after a `flush`: about a minute of ~5 s waits. */
const QUICK_CAPTURES_AFTER_FLUSH = 12;

/** Thrown inside the loop when the user cancelled the workflow: stop gracefully. */
class StopRequested extends Error {}

/**
 * One pipeline: prepare the source, then capture → load batches until cancelled (graceful:
 * the current batch finishes) or, in catch-up mode, until the source position seen at start is
 * loaded. Row data never passes through here; activities exchange checkpoints and manifests.
 */
export async function pipelineWorkflow(input: PipelineWorkflowInput): Promise<PipelineStatus> {
  checkInputShape(input);
  let spec = input.spec;
  const state: PipelineState = input.state ?? initialState(new Date().toISOString());
  const batchesPerRun = batchesPerRunOf(workflowInfo().memo);
  const root = CancellationScope.current();
  let resumed = false;
  let batchesThisRun = 0;

  setHandler(pauseSignal, () => {
    state.paused = true;
  });
  // After a `flush`, this many captures do not long-poll (a capture slice waits at most ~5 s).
  let quickCaptures = 0;
  let flushing = false;
  setHandler(flushSignal, () => {
    flushing = true;
    quickCaptures = QUICK_CAPTURES_AFTER_FLUSH;
  });
  setHandler(resumeSignal, () => {
    state.paused = false;
    resumed = true;
  });
  const status = (): PipelineStatus => ({
    ...state,
    pipeline: spec.name,
    mode: spec.mode,
    source: describeSource(spec),
    destination: describeDestination(spec.destination),
    snapshotProgress: describeSnapshot(state),
    backfillProgress: describeBackfillState(state),
    retentionWarnBytes: retentionSettings(spec).warnBytes,
  });
  setHandler(statusQuery, status);
  // The Temporal UI's view (current details, phase search attribute), told at each change of state.
  const ui = new UiReporter();
  const where = (): PipelineWhere => ({
    pipeline: typeof spec.name === 'string' ? spec.name : workflowInfo().workflowId,
    ...(state.checkpoint === null ? {} : { route: `${describeSource(spec)} → ${describeDestination(spec.destination)} (${spec.mode})` }),
  });
  const tell = (): void => ui.report(state, where());
  tell();
  setHandler(specQuery, () => spec);
  setHandler(
    reconfigureUpdate,
    ({ spec: next, added }) => {
      spec = next;
      if (added.length === 0) return { requestId: null };
      const id = uuid4();
      (state.backfillRequests ??= []).push({ id, tables: added, reason: 'added' });
      return { requestId: id };
    },
    { validator: (input: ReconfigureInput) => checkReconfigure(spec, input.spec) },
  );
  setHandler(
    resyncUpdate,
    ({ tables, keys }) => {
      const id = uuid4();
      (state.backfillRequests ??= []).push({ id, tables, reason: keys === undefined ? 'resync' : 'repair', ...(keys === undefined ? {} : { keys }) });
      return { id, tables };
    },
    {
      validator: ({ tables, keys }: ResyncInput) => {
        if (!Array.isArray(tables) || tables.length === 0) throw new Error('name at least one table to re-sync');
        const bad = tables.filter((t) => typeof t !== 'string' || !/^[^.]+\..+$/.test(t));
        if (bad.length > 0) throw new Error(`table names must be schema.table: ${bad.map((t) => JSON.stringify(t)).join(', ')}`);
        if (keys === undefined) return;
        if (spec.mode !== 'merge') throw new Error('keys can be repaired in MERGE pipelines only: re-sync whole tables');
        for (const [table, list] of Object.entries(keys)) {
          if (!tables.includes(table)) throw new Error(`keys given for ${table}, which is not among the tables`);
          if (!Array.isArray(list) || list.length > MAX_REPAIR_KEYS) throw new Error(`${table}: at most ${MAX_REPAIR_KEYS} keys; re-sync the whole table instead`);
        }
      },
    },
  );

  /** Waits for `predicate` unless the workflow is cancelled meanwhile. */
  const waitFor = async (predicate: () => boolean): Promise<void> => {
    try {
      await condition(predicate);
    } catch (err) {
      if (isCancellation(err)) throw new StopRequested();
      throw err;
    }
  };

  /**
   * Runs one activity step to completion even if the workflow is cancelled meanwhile.
   * A failure that retrying cannot fix parks the pipeline in `failed` until `resume`.
   */
  const step = async <T>(activity: string, fn: () => Promise<T>): Promise<T | 'stale'> => {
    for (;;) {
      state.step = { activity, since: new Date().toISOString() };
      tell();
      try {
        const result = await CancellationScope.nonCancellable(fn);
        state.lastError = null;
        return result;
      } catch (err) {
        const failure = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : null;
        if (failure?.type === 'StaleBatchError') return 'stale';
        if (failure === null) throw err;
        if (failure.type === INVALID_SPEC) throw invalidInput(failure.message); // only a new start can fix the input
        const previousPhase = state.phase;
        state.lastError = { type: failure.type ?? 'Error', message: failure.message, at: new Date().toISOString() };
        state.phase = 'failed';
        state.step = null;
        resumed = false;
        tell();
        await waitFor(() => resumed || root.consideredCancelled);
        if (root.consideredCancelled) throw new StopRequested();
        state.phase = previousPhase;
      } finally {
        state.step = null;
      }
    }
  };

  /**
   * Runs a capture that the workflow cancels once `interrupt()` holds (a capture idling in its long
   * poll then returns at once, with whatever it read). Returns null when it was cancelled before it
   * could return anything.
   */
  const interruptible = async <T>(capture: () => Promise<T>, interrupt: () => boolean, on: BatchActivities): Promise<T | null> => {
    if (!patched(INTERRUPTIBLE_CAPTURE)) return capture();
    const scope = new CancellationScope();
    let settled = false;
    void condition(() => settled || interrupt()).then(() => {
      if (settled) return;
      scope.cancel();
      // The fast path: cancellation reaches the activity only with its next (throttled) heartbeat.
      on.interruptCapture({ pipeline: spec.name }).catch(() => undefined);
    });
    try {
      return await scope.run(capture);
    } catch (err) {
      if (scope.consideredCancelled && isCancellation(err)) return null;
      // Interrupted while its worker was gone: the cancellation ends with the heartbeat timeout.
      // Nothing was lost (a capture commits only positions it read): capture again from the checkpoint.
      if (scope.consideredCancelled && err instanceof ActivityFailure && patched(INTERRUPTED_CAPTURE_TIMEOUT)) return null;
      throw err;
    } finally {
      settled = true;
    }
  };

  /**
   * Runs `call` on the pipeline's home worker (the process that holds its stream and staged
   * batches), or on any worker when it has none; when the home worker is gone, on any worker.
   * A pipeline thus stays on one worker while it lives, and any other takes it over when it dies.
   */
  // Placed once while homeless: a placement that finds no process leaves it to the next activity's worker.
  let placeAgain = true;
  const homed = async <T>(call: (on: BatchActivities) => Promise<T>, gone?: string): Promise<T> => {
    if (state.home === undefined && placeAgain && patched(PLACED_HOME)) {
      placeAgain = false;
      const placed = await placeHome(spec.name, gone);
      if (placed !== undefined) state.home = placed;
    }
    const home = state.home;
    if (home === undefined || !patched(HOME_WORKER)) return call(anyWorker);
    try {
      return await call(homeWorker(home));
    } catch (err) {
      if (!notTaken(err)) throw err;
      delete state.home;
      placeAgain = true;
      return homed(call, home); // placed anew (runs from before placement: on any worker)
    }
  };

  const applyLoaded = (
    batch: BatchSummary,
    result: { counts: BatchSummary['counts']; position: string | null; skipped: boolean; resync?: string[] },
  ): void => {
    if (result.resync !== undefined) state.resync = result.resync;
    state.batches++;
    batchesThisRun++;
    state.events += batch.events;
    // A load reports no counts (the batch summary has them); a load result from an older version does.
    addCounts(state.counts, result.skipped ? {} : Object.keys(result.counts).length > 0 ? result.counts : batch.counts);
    state.position = result.position;
    state.lastBatchAt = new Date().toISOString();
    state.lastBatchEvents = batch.events;
    if (batch.lastCommitTs !== null) {
      state.lastCommitTs = batch.lastCommitTs;
      state.lagSeconds = Math.max(0, (Date.now() - Date.parse(batch.lastCommitTs)) / 1000);
    }
    state.schemaChanges = keepLast(state.schemaChanges, batch.schemaChanges, 20);
  };

  const noteRetention = (retention: SourceRetention | null | undefined): void => {
    if (retention == null) return; // not measured this time (or by an older version): keep the last one
    state.retention = retention;
    state.sourceRetainedBytes = retention.bytes;
  };

  /**
   * While paused the slot or binlog grows: measures what the source keeps at once, then every
   * `retention.checkSeconds` (one activity each, waiting inside it), until resumed or stopped, or
   * until the history should continue as new.
   * A lost position parks the pipeline in `failed` like any non-retryable failure.
   */
  const observeWhilePaused = async (): Promise<void> => {
    let waitMs = 0;
    while (state.paused && !root.consideredCancelled && !workflowInfo().continueAsNewSuggested) {
      const observed = await step('observeSource', async () => {
        if (!state.paused) return null; // resumed while parked
        state.step = null; // not a step of the pipeline's work: a paused pipeline shows none
        const scope = new CancellationScope();
        let settled = false;
        const running = scope.run(() =>
          observeSource.executeWithOptions({ summary: 'paused: measure what the source keeps for the pipeline' }, [{ spec, waitMs, loadedCommitTs: state.lastCommitTs }]),
        );
        running.then(() => (settled = true), () => (settled = true)); // also handles the rejection of a cancelled wait
        await condition(() => settled || !state.paused || root.consideredCancelled);
        if (settled) return running;
        scope.cancel();
        return null;
      });
      if (observed !== null && observed !== 'stale') noteRetention(observed.retention);
      waitMs = retentionSettings(spec).checkSeconds * 1000;
    }
  };

  try {
    if (state.checkpoint === null) {
      const prepared = await step('preparePipeline', () =>
        preparePipeline.executeWithOptions({ summary: 'check the input, the source and the destination' }, [{ spec }]),
      );
      if (prepared !== 'stale') {
        if (prepared.spec !== undefined) spec = prepared.spec;
        // The home is chosen by placement now; runs from before it took the preparing worker.
        if (prepared.home !== undefined && !patched(PLACED_HOME)) state.home = prepared.home;
        state.checkpoint = prepared.checkpoint;
        state.warnings = prepared.warnings;
      }
    }
    if (input.catchUp === true && state.catchUpTarget === null) {
      const target = await step('sourcePosition', () =>
        sourcePosition.executeWithOptions({ summary: "catch-up target: the source's position now" }, [{ spec }]),
      );
      if (target !== 'stale') state.catchUpTarget = target;
    }
    while (!root.consideredCancelled) {
      if (state.paused) {
        state.phase = 'paused';
        tell();
        if (!patched('observe-while-paused')) {
          await waitFor(() => !state.paused || root.consideredCancelled);
          continue;
        }
        await observeWhilePaused();
        if (!workflowInfo().continueAsNewSuggested) continue; // else a long pause continues as new, still paused
      }
      if (workflowInfo().continueAsNewSuggested || batchesThisRun >= batchesPerRun) {
        await condition(allHandlersFinished);
        // The server starts the next run without the memo unless it is passed on.
        const attributes = carriedSearchAttributes(workflowInfo().typedSearchAttributes);
        const next = makeContinueAsNewFunc<typeof pipelineWorkflow>({
          memo: workflowInfo().memo,
          ...(attributes.length > 0 ? { typedSearchAttributes: attributes } : {}),
        });
        return await next({ ...input, spec, state: { ...state, runs: state.runs + 1 } });
      }
      state.phase = state.checkpoint?.snapshot !== undefined ? 'snapshot' : 'streaming';
      const requests = state.backfillRequests ?? [];
      const capturing = spec;
      // Something for the loop to take in: stop the capture's wait for it.
      const quick = quickCaptures > 0;
      if (quick) quickCaptures--;
      flushing = false;
      const interrupt = (): boolean =>
        flushing || state.paused || root.consideredCancelled || spec !== capturing || (state.backfillRequests ?? []).length !== requests.length;
      const captured = await step('captureBatch', () =>
        homed((on) =>
          interruptible(
            () =>
              on.captureBatch.executeWithOptions({ summary: captureSummary(state) }, [
                { spec, until: state.catchUpTarget, ...(requests.length > 0 ? { backfill: requests } : {}), ...(quick ? { longPoll: false } : {}) },
              ]),
            interrupt,
            on,
          ),
        ),
      );
      if (captured === 'stale' || captured === null) continue;
      if (captured.home !== undefined) state.home = captured.home;
      state.checkpoint = captured.checkpoint;
      state.position = captured.position;
      state.lagBytes = captured.lagBytes;
      noteRetention(captured.retention);
      if (captured.reachedTarget) {
        state.phase = 'caught-up';
        tell();
        return status();
      }
      if (captured.batch === null) {
        state.lagSeconds = 0;
        continue;
      }
      const batch = captured.batch;
      const loaded = await step('loadBatch', () => homed((on) => on.loadBatch.executeWithOptions({ summary: loadSummary(state, batch) }, [{ spec, batch }])));
      if (loaded === 'stale') continue;
      state.checkpoint = loaded.checkpoint;
      applyLoaded(batch, loaded);
      const accepted = loaded.checkpoint.backfill?.accepted ?? [];
      if (state.backfillRequests !== undefined) state.backfillRequests = state.backfillRequests.filter((r) => !accepted.includes(r.id));
    }
  } catch (err) {
    if (!(err instanceof StopRequested)) throw err;
  }
  state.phase = 'stopped';
  tell();
  return status();
}

function describeSource(spec: PipelineSpec): string {
  const s = spec.source;
  return s.kind === 'postgres' ? `postgres://${s.user}@${s.host}:${s.port}/${s.database}` : `mysql://${s.user}@${s.host}:${s.port}`;
}

/** Copies in progress and requests not taken in yet, for `status`. */
function describeBackfillState(state: PipelineState): string | undefined {
  const running = describeBackfill(state.checkpoint?.backfill, Date.now());
  const requested = (state.backfillRequests ?? []).flatMap((r) => r.tables);
  const waiting = requested.length > 0 ? `requested: ${requested.join(', ')}` : undefined;
  const parts = [running, waiting].filter((p): p is string => p !== undefined);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** Throws (the update is rejected, with the fix) when `next` changes what a running pipeline cannot change. */
function checkReconfigure(current: PipelineSpec, next: PipelineSpec): void {
  const fixed: [string, unknown, unknown][] = [
    ['name', current.name, next.name],
    ['source.kind', current.source.kind, next.source.kind],
    ['destination', describeDestination(current.destination), describeDestination(next.destination)],
    ['mode', current.mode, next.mode],
  ];
  if (current.source.kind === 'postgres' && next.source.kind === 'postgres') {
    fixed.push(['source.database', current.source.database, next.source.database], ['source.slot', current.source.slot, next.source.slot], ['source.publication', current.source.publication, next.source.publication]);
  }
  const changed = fixed.filter(([, a, b]) => JSON.stringify(a) !== JSON.stringify(b)).map(([what]) => what);
  if (changed.length > 0) {
    throw new Error(`a running pipeline cannot change ${changed.join(', ')}: stop it (ducktail stop ${current.name}), then start it again (with teardown first to copy everything anew)`);
  }
}
