import type { PipelineSpec } from '../src/model/pipeline-spec.js';
import type { BenchContext } from './context.js';
import type { Floor } from './floors.js';
import { measure, type Measured } from './measure.js';
import type { BenchPipeline, BenchPipelineConfig } from './pipeline.js';
import type { Liveness } from './worker-process.js';

export interface BacklogRun {
  ctx: BenchContext;
  config: BenchPipelineConfig;
  /** Change events the backlog holds. */
  changes: number;
  /**
   * Writes the backlog while the pipeline is paused and no worker runs; returns how to measure
   * its floor, which runs once the measuring worker is up (and idle).
   */
  write(pipeline: BenchPipeline): Promise<() => Promise<Floor>>;
}

/**
 * A backlog drained by a fresh worker: a first worker starts the pipeline (empty snapshot) and
 * pauses it, then exits; the backlog is written with no reader open (a live worker would read
 * ahead into its queue while paused); a second worker, started meanwhile, drains it on resume.
 */
export async function drainBacklog(run: BacklogRun): Promise<Measured & { floor: Floor }> {
  const { ctx } = run;
  const pipeline = await ctx.pipeline(run.config);
  ctx.say(`${pipeline.spec.name}: starting the pipeline, then pausing it`);
  const first = await pipeline.startWorker();
  try {
    await pipeline.start();
    await pauseOnceSnapshotted(pipeline, first);
  } finally {
    await first.stop();
  }
  const starting = pipeline.startWorker();
  starting.catch(() => undefined); // awaited below; a failure of `write` must not leave it unhandled
  try {
    ctx.say(`${pipeline.spec.name}: writing the backlog (${run.changes} changes)`);
    const measureFloor = await run.write(pipeline);
    const worker = await starting;
    const floor = await measureFloor();
    ctx.say(`${pipeline.spec.name}: floor ${floor.seconds.toFixed(2)} s; draining`);
    const measured = await measure({
      pipeline,
      worker,
      what: `${run.changes} changes loaded`,
      begin: () => pipeline.resume(),
      done: (before, s) => s.events >= before.events + run.changes,
    });
    await pipeline.terminate();
    return { ...measured, floor };
  } finally {
    await starting.then((w) => w.kill(), () => undefined);
  }
}

/**
 * Pauses a just-started pipeline right after its (empty) snapshot, before its first stream
 * capture: paused later, that capture would idle for `idleWaitMs` first. The pause is sent as
 * soon as the pipeline is prepared (it is then snapshotting, for some 50 ms); if it lands before
 * the snapshot is done, the pipeline is resumed until it is.
 */
export async function pauseOnceSnapshotted(pipeline: BenchPipeline<PipelineSpec>, worker: Liveness): Promise<void> {
  await pipeline.until(worker, 'the pipeline prepared', (s) => s.checkpoint !== null, 10);
  let paused = await pipeline.pause(worker);
  while (paused.checkpoint?.snapshot !== undefined) {
    await pipeline.resume();
    await pipeline.until(worker, 'the snapshot done', (s) => s.phase !== 'paused' && s.checkpoint?.snapshot === undefined);
    paused = await pipeline.pause(worker);
  }
}

export interface SnapshotRun {
  ctx: BenchContext;
  config: BenchPipelineConfig;
  rows: number;
  /** Creates and fills the table (while the worker starts). */
  fill(): Promise<void>;
  floor(): Promise<Floor>;
}

/** A first start of a pipeline on a filled table: from the workflow's start to the snapshot loaded and streaming begun. */
export async function runSnapshot(run: SnapshotRun): Promise<Measured & { floor: Floor }> {
  const { ctx } = run;
  const pipeline = await ctx.pipeline(run.config);
  const starting = pipeline.startWorker();
  starting.catch(() => undefined);
  try {
    ctx.say(`${pipeline.spec.name}: filling the table (${run.rows} rows)`);
    await run.fill();
    const worker = await starting;
    const floor = await run.floor();
    ctx.say(`${pipeline.spec.name}: floor ${floor.seconds.toFixed(2)} s; snapshotting`);
    const measured = await measure({
      pipeline,
      worker,
      fresh: true,
      what: `a snapshot of ${run.rows} rows`,
      begin: () => pipeline.start(),
      done: (_, s) => s.phase === 'streaming' && s.events >= run.rows,
    });
    await pipeline.terminate();
    return { ...measured, floor };
  } finally {
    await starting.then((w) => w.kill(), () => undefined);
  }
}
