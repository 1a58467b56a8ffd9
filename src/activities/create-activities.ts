import { rm } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import type { PipelineConnectors } from '../composition.js';
import type { ApplyResult, Destination } from '../destinations/destination.js';
import { parsePipelineSpec } from '../config/load-config.js';
import { NoPrimaryKeyError, StaleBatchError } from '../errors.js';
import type { Logger } from '../logger.js';
import { checkpointKey, checkpointView, type Checkpoint } from '../model/checkpoint.js';
import type { BatchSummary } from '../model/batch.js';
import { isLake, type PipelineSpec } from '../model/pipeline-spec.js';
import { ensureUpkeepSchedule, upkeepScheduleId } from '../temporal/upkeep-schedule.js';
import type { SourceConnector } from '../sources/source-connector.js';
import { batchDir, newBatchId, removeOldSpools } from '../staging/spool-paths.js';
import { readManifest } from '../staging/spool-reader.js';
import { withRequests } from '../sources/backfill.js';
import { SpoolWriter } from '../staging/spool-writer.js';
import type {
  CaptureBatchInput,
  CaptureBatchResult,
  InterruptCaptureInput,
  LoadBatchInput,
  LoadBatchResult,
  ObserveSourceInput,
  ClaimHomeInput,
  ClaimHomeResult,
  HomeLoad,
  HomeLoadInput,
  PipelineActivities,
  PlacementActivities,
  PreparePipelineInput,
  PreparePipelineResult,
  SourcePositionInput,
} from './activity-types.js';
import { observeSource, readRetention } from './observe-source.js';
import { CaptureInterrupts, captureWhileIdle, positionOnly } from './idle-poll.js';
import { IdleStreams } from './idle-streams.js';
import { retryLakeConflicts } from './lake-conflicts.js';
import { ReadAheads } from './read-ahead.js';
import { asActivity } from './to-failure.js';

/**
 * Heartbeat period while a capture opens (before its own progress heartbeats): well inside the
 * workflow's 10 s heartbeat timeout, which a busy DuckDB file (up to `BUSY_WAIT_MS`) would exceed.
 */
const OPENING_HEARTBEAT_MS = 2_000;

export interface ActivityDeps {
  connectors: PipelineConnectors;
  logger: Logger;
  /** The task queue only this process polls, reported by prepare and capture (see src/worker.ts). */
  home?: string;
  /** The task queue the worker serves pipelines on: lake upkeep schedules start their runs there. */
  taskQueue?: string;
  /** The own queues of the worker processes polling the shared queue now (see `PlacementActivities`). */
  liveHomes?: () => Promise<string[]>;
}

/** The pipeline activities, bound to the worker's open sources and DuckDB files. */
export function createActivities(deps: ActivityDeps): PipelineActivities & PlacementActivities {
  const { connectors, logger } = deps;
  const homed = deps.home === undefined ? {} : { home: deps.home };
  const readAheads = new ReadAheads(logger);
  const interrupts = new CaptureInterrupts();
  const streams = new IdleStreams(async (pipeline) => {
    try {
      await readAheads.drop(pipeline);
      // Only a source still open here: one closed since (teardown, worker shutdown) is not opened again to be let go of.
      await connectors.openSource(pipeline)?.releaseStream();
      logger.debug({ pipeline }, 'no batch here for a while: let go of the change stream');
    } catch (err) {
      logger.warn({ pipeline, err }, 'letting go of the idle change stream failed');
    }
  });
  /** Runs a capture or load of `spec`'s pipeline, keeping its stream open meanwhile (see idle-streams.ts). */
  const holding = <T>(spec: PipelineSpec, work: () => Promise<T>): Promise<T> => streams.hold(spec.name, work);

  /** The checkpoint stored in DuckDB; prepares the pipeline when there is none yet. */
  async function durableCheckpoint(spec: PipelineSpec, source: SourceConnector, dest: Destination): Promise<Checkpoint> {
    return (await dest.readCheckpoint(spec.name)) ?? (await dest.initCheckpoint(spec.name, await source.prepare()));
  }

  async function lag(source: SourceConnector, checkpoint: Checkpoint): Promise<number | null> {
    try {
      return source.lagBytes(checkpoint, await source.currentPosition());
    } catch {
      return null;
    }
  }

  /**
   * A lake pipeline's upkeep runs on a Temporal Schedule (see upkeep-schedule.ts), made to match
   * the spec each time the pipeline starts, however it was started (CLI, UI, a schedule). A
   * schedule that cannot be made is a warning, not a reason to stop replicating.
   */
  async function scheduleUpkeep(spec: PipelineSpec): Promise<string[]> {
    if (deps.taskQueue === undefined || !isLake(spec.destination)) return [];
    try {
      const done = await ensureUpkeepSchedule(Context.current().client, deps.taskQueue, spec);
      if (done !== 'unchanged') logger.info({ pipeline: spec.name, schedule: upkeepScheduleId(spec.name) }, `lake upkeep schedule ${done}`);
      return [];
    } catch (err) {
      return [`lake upkeep is not scheduled (${(err as Error).message}): run \`ducktail upkeep ${spec.name}\` now and then, or start the pipeline again`];
    }
  }

  /** Applies a staged batch with its checkpoint in one DuckDB transaction; then, only then, acknowledges the source. */
  async function applyAndAcknowledge(spec: PipelineSpec, batch: BatchSummary, heartbeat: () => void): Promise<ApplyResult> {
    const manifest = await readManifest(batch.spoolDir);
    const dest = await connectors.destination(spec);
    const result = await retryLakeConflicts(
      () => dest.applyBatch(manifest, { mode: spec.mode, spoolDir: batch.spoolDir, heartbeat }),
      (attempt) => logger.debug({ pipeline: spec.name, batchId: batch.batchId, attempt }, 'lake commit conflict; applying again'),
    );
    // The checkpoint is committed in DuckDB: only now may the source forget what it covers.
    const source = await connectors.source(spec);
    await source.acknowledge(result.checkpoint).catch((err: unknown) => {
      logger.warn({ pipeline: spec.name, err }, 'acknowledging the source failed; the next batch acknowledges again');
    });
    await rm(batch.spoolDir, { recursive: true, force: true });
    return result;
  }

  /** One capture activity; `opened` is called once the capture's own progress heartbeats take over. */
  async function capture(ctx: Context, opened: () => void, { spec, until, backfill, longPoll }: CaptureBatchInput): Promise<CaptureBatchResult> {
    // Taken before the source: a changed spec replaces the source the read-ahead uses.
    const ahead = await readAheads.take(spec);
    const source = await connectors.source(spec);
    const dest = await connectors.destination(spec);
    const checkpoint = await durableCheckpoint(spec, source, dest);
    // New re-sync requests start from the stored checkpoint with them taken in; a read-ahead has not.
    const from = withRequests(checkpoint, backfill);
    const adopted = ahead !== null && from === checkpoint && checkpointKey(ahead.from) === checkpointKey(checkpoint) ? ahead : null;
    if (ahead !== null && adopted === null) await ahead.discard();
    const base = {
      ...homed,
      checkpoint: checkpointView(checkpoint),
      position: checkpoint.position === null ? null : source.describe(checkpoint.position),
      lagBytes: await lag(source, checkpoint),
      retention: await readRetention(source, checkpoint, logger.child({ pipeline: spec.name })),
    };
    if (until != null && checkpoint.snapshot === undefined && source.reached(checkpoint, until)) {
      await adopted?.discard();
      return { ...base, batch: null, reachedTarget: true };
    }
    await removeOldSpools(spec, adopted?.batchId);
    const batchId = adopted?.batchId ?? newBatchId();
    logger.debug({ pipeline: spec.name, batchId, readAhead: adopted !== null }, 'capture started');
    const started = Date.now();
    const writer = adopted?.writer ?? (await SpoolWriter.create(batchDir(spec, batchId), spec.name, batchId, checkpoint));
    opened();
    const running = interrupts.register(spec.name, ctx.cancellationSignal);
    const captureCtx = {
      // Details show the capture's progress in the Temporal UI (counts only, never rows).
      heartbeat: () => ctx.heartbeat({ batchId, events: writer.events, bytes: writer.bytes }),
      signal: running.signal,
    };
    let outcome;
    try {
      adopted?.adopt(captureCtx);
      // A capture that finds nothing waits here (long poll) until something arrives or the workflow cancels it.
      const first = adopted?.done.then((done) => {
        if (done instanceof Error) throw done;
        return done;
      });
      outcome = await captureWhileIdle({ source, from, sink: writer, limits: spec.batch, ctx: captureCtx, longPoll: until == null && longPoll !== false, ...(first === undefined ? {} : { first }) });
    } catch (err) {
      await writer.abort();
      throw err;
    } finally {
      running.done();
    }
    const keyless = spec.mode === 'merge' && spec.keyless === 'error' ? writer.tables.filter((t) => t.primaryKey.length === 0) : [];
    if (keyless.length > 0) {
      await writer.abort();
      throw new NoPrimaryKeyError(
        `pipeline ${spec.name}: ${keyless.map((t) => t.table).join(', ')} has no primary key and cannot be merged`,
        'add a primary key at the source, or set keyless: append to write such tables as an audit log; then resume the pipeline',
      );
    }
    if (writer.empty && checkpointKey(outcome.to) === checkpointKey(checkpoint)) {
      await writer.abort();
      // Measured again: a capture that found nothing may have waited a minute (long poll).
      return { ...base, lagBytes: await lag(source, checkpoint), batch: null, reachedTarget: false };
    }
    const to = { ...outcome.to, batchId };
    const nothingStaged = writer.empty;
    const batch = await writer.finish(to, outcome.schemaChanges);
    if (from === checkpoint && nothingStaged && positionOnly(from, outcome)) {
      // A capture that only moved the position (others' changes, keepalives) commits it here, no
      // rows to apply, so the source can free its log without a load in the workflow's history.
      const committed = (await applyAndAcknowledge(spec, batch, captureCtx.heartbeat)).checkpoint;
      const at = committed.position;
      return { ...base, checkpoint: checkpointView(committed), position: at === null ? null : source.describe(at), lagBytes: await lag(source, committed), batch: null, reachedTarget: false };
    }
    logger.debug({ pipeline: spec.name, batchId, events: batch.events, bytes: batch.bytes, ms: Date.now() - started }, 'capture staged');
    // While this batch loads, the next one is read (streaming only: snapshot chunks hold a transaction each).
    if (to.snapshot === undefined && !running.signal.aborted) await readAheads.start(spec, source, to);
    // What is left beyond this batch: once it loads, that is the pipeline's lag.
    return { ...base, lagBytes: await lag(source, to), batch, reachedTarget: false };
  }

  return {
    preparePipeline: (input: PreparePipelineInput): Promise<PreparePipelineResult> =>
      asActivity(async () => {
        // Workflow input may have been typed into the Temporal UI: check it, and run on it validated, defaults filled.
        const spec = parsePipelineSpec(input.spec);
        await readAheads.drop(spec.name); // a new run: nothing may read the source meanwhile
        // -- destination preflight (issue 6): a bad DuckDB path fails here, clearly and non-retryably,
        // before the source is touched (no slot or publication is created for it).
        await connectors.checkDestination(spec);
        // -- end destination preflight
        const source = await connectors.source(spec);
        const report = await source.preflight();
        const dest = await connectors.destination(spec);
        // Before the source is prepared: a mode change the file cannot take creates nothing there.
        await dest.registerPipeline(spec.name, spec.mode);
        const checkpoint = await durableCheckpoint(spec, source, dest);
        const warnings = [...report.warnings, ...(await scheduleUpkeep(spec))];
        for (const w of warnings) logger.warn({ pipeline: spec.name }, w);
        return { ...homed, checkpoint: checkpointView(checkpoint), warnings, tables: report.tables.map((t) => t.table), spec };
      }),

    captureBatch: (input: CaptureBatchInput): Promise<CaptureBatchResult> =>
      asActivity(() => holding(input.spec, async () => {
        const ctx = Context.current();
        // Opening may wait on others (a reader holding the DuckDB file, a source reconnecting):
        // heartbeat meanwhile, so the wait is not taken for a dead worker.
        const opening = setInterval(() => ctx.heartbeat({ opening: true }), OPENING_HEARTBEAT_MS);
        try {
          return await capture(ctx, () => clearInterval(opening), input);
        } finally {
          clearInterval(opening);
        }
      })),

    loadBatch: ({ spec, batch }: LoadBatchInput): Promise<LoadBatchResult> =>
      asActivity(() => holding(spec, async () => {
        const ctx = Context.current();
        logger.debug({ pipeline: spec.name, batchId: batch.batchId, events: batch.events }, 'load started');
        const started = Date.now();
        const result = await applyAndAcknowledge(spec, batch, () => ctx.heartbeat({ batchId: batch.batchId, events: batch.events })).catch((err: unknown) => {
          // E.g. a lake batch staged on another host by a worker that died: the workflow captures it again.
          if (err instanceof StaleBatchError) logger.info({ pipeline: spec.name, batchId: batch.batchId, reason: err.message }, 'load found no staged batch; capturing again');
          throw err;
        });
        const source = await connectors.source(spec);
        logger.debug({ pipeline: spec.name, batchId: batch.batchId, skipped: result.skipped, ms: Date.now() - started }, 'load committed');
        const position = result.checkpoint.position;
        return {
          checkpoint: checkpointView(result.checkpoint),
          skipped: result.skipped,
          // The workflow has the batch's counts already (its summary): none travel back.
          counts: {},
          position: position === null ? null : source.describe(position),
          resync: result.resync,
        };
      })),

    interruptCapture: ({ pipeline }: InterruptCaptureInput) => Promise.resolve(interrupts.interrupt(pipeline)),

    sourcePosition: ({ spec }: SourcePositionInput) =>
      asActivity(async () => (await connectors.source(spec)).currentPosition()),

    observeSource: (input: ObserveSourceInput) => asActivity(() => observeSource(input, connectors, logger)),

    liveHomes: () => asActivity(async () => (deps.home === undefined || deps.liveHomes === undefined ? [] : deps.liveHomes())),

    homeLoad: ({ pipeline }: HomeLoadInput): Promise<HomeLoad> =>
      Promise.resolve({ home: deps.home ?? '', pipelines: streams.active().filter((p) => p !== pipeline).length }),

    claimHome: ({ pipeline, atMost }: ClaimHomeInput): Promise<ClaimHomeResult> => {
      const others = streams.active().filter((p) => p !== pipeline).length;
      // Another pipeline was placed here since the workflow counted: it places this one again.
      const claimed = deps.home !== undefined && (atMost === undefined || others <= atMost);
      if (claimed) streams.reserve(pipeline);
      logger.debug({ pipeline, claimed, pipelinesHere: others }, claimed ? 'pipeline placed here' : 'pipeline placement declined: busier than counted');
      return Promise.resolve({ claimed, home: deps.home ?? '', pipelines: others });
    },
  };
}
