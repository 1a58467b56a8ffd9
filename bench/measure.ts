import type { PipelineSpec } from '../src/model/pipeline-spec.js';
import type { PipelineStatus } from '../src/temporal/pipeline-contract.js';
import { breakDownHistory, mergeBreakdowns, type HistoryBreakdown } from './history-breakdown.js';
import { eventBytes, type HistoryMark } from './history.js';
import type { BenchPipeline } from './pipeline.js';
import { readBatchTimings, readLakeLog, type WorkerGroup, type WorkerProcess } from './worker-process.js';

/** What the worker did in a measured part. */
export interface Measured {
  seconds: number;
  batches: number;
  historyBytes: number;
  /** The same history by batch cycle: mean, largest, and what makes them up. */
  history: HistoryBreakdown;
  peakRssMb: number;
  startRssMb: number;
  captureSeconds: number;
  loadSeconds: number;
}

export interface MeasureInput {
  pipeline: BenchPipeline;
  worker: WorkerProcess;
  /** What the measured part waits for, for error messages. */
  what: string;
  /** Starts the work (starts or resumes the workflow); the clock runs from its call. */
  begin: () => Promise<void>;
  /** When the work is done, given the status before `begin` (zero counts for a workflow not started yet) and now. */
  done: (before: { events: number }, now: PipelineStatus) => boolean;
  /** The workflow is started by `begin`: the measured history is all of it. */
  fresh?: boolean;
}

/**
 * Runs one measured part: resets the worker's peak RSS, notes where the history and the counts
 * are, runs `begin`, waits for `done`, and reads what it cost.
 */
export async function measure(input: MeasureInput): Promise<Measured> {
  const { pipeline, worker } = input;
  const before = input.fresh === true ? { events: 0, batches: 0 } : await pipeline.status();
  const mark: HistoryMark | null = input.fresh === true ? null : await pipeline.historyMark();
  await worker.resetPeak();
  const { rssMb: startRssMb } = await worker.memory();
  const started = Date.now();
  const t0 = process.hrtime.bigint();
  await input.begin();
  const after = await pipeline.until(worker, input.what, (s) => input.done(before, s));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const ended = Date.now();
  const { hwmMb } = await worker.memory();
  const events = await pipeline.historyEventsSince(mark ?? { runId: pipeline.firstRunId(), eventId: 0 });
  return {
    seconds,
    batches: after.batches - before.batches,
    historyBytes: events.reduce((n, event) => n + eventBytes(event), 0),
    history: breakDownHistory(events),
    peakRssMb: hwmMb,
    startRssMb,
    ...(await readBatchTimings(worker.logFile, started, ended)),
  };
}

export interface MeasureAllInput {
  /** Pipelines served together by `workers` (one task queue). */
  pipelines: BenchPipeline<PipelineSpec>[];
  workers: WorkerGroup;
  what: string;
  /** Starts the work (resumes every pipeline); the clock runs from its call. */
  begin: () => Promise<void>;
  /** When one pipeline's work is done, given its status before `begin` and now. */
  done: (before: { events: number }, now: PipelineStatus) => boolean;
}

/** What several workers did for several pipelines in a measured part; the peak RSS is the largest worker's. */
export interface MeasuredAll extends Measured {
  /** Each worker's peak RSS, in the group's order. */
  peakRssMbPerWorker: number[];
  /** How many of the pipelines each worker loaded batches of (a pipeline taken over mid-way counts for both). */
  pipelinesPerWorker: number[];
  /** Lake commits lost to a concurrent commit (and applied again), all workers together. */
  lakeConflicts: number;
}

/**
 * `measure` for several pipelines served by several workers at once: the measured part ends when
 * the last pipeline is done. Batches, history and activity times are summed over the pipelines
 * and workers.
 */
export async function measureAll(input: MeasureAllInput): Promise<MeasuredAll> {
  const { pipelines, workers } = input;
  const before = await Promise.all(pipelines.map((p) => p.status()));
  const marks = await Promise.all(pipelines.map((p) => p.historyMark()));
  for (const w of workers.workers) await w.resetPeak();
  const startRss = await Promise.all(workers.workers.map((w) => w.memory()));
  const started = Date.now();
  const t0 = process.hrtime.bigint();
  await input.begin();
  const after = await Promise.all(pipelines.map((p, i) => p.until(workers, input.what, (s) => input.done(before[i] ?? { events: 0 }, s))));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const ended = Date.now();
  const peaks = await Promise.all(workers.workers.map(async (w) => (await w.memory()).hwmMb));
  const histories = await Promise.all(pipelines.map((p, i) => p.historyEventsSince(marks[i] ?? { runId: p.firstRunId(), eventId: 0 })));
  const timings = await Promise.all(workers.workers.map((w) => readBatchTimings(w.logFile, started, ended)));
  const lake = await Promise.all(workers.workers.map((w) => readLakeLog(w.logFile, started, ended)));
  return {
    seconds,
    batches: after.reduce((n, s, i) => n + s.batches - (before[i]?.batches ?? 0), 0),
    historyBytes: histories.flat().reduce((n, event) => n + eventBytes(event), 0),
    history: mergeBreakdowns(histories.map(breakDownHistory)),
    peakRssMb: Math.max(...peaks),
    startRssMb: Math.max(...startRss.map((m) => m.rssMb)),
    captureSeconds: timings.reduce((n, t) => n + t.captureSeconds, 0),
    loadSeconds: timings.reduce((n, t) => n + t.loadSeconds, 0),
    peakRssMbPerWorker: peaks,
    pipelinesPerWorker: lake.map((l) => l.pipelines.size),
    lakeConflicts: lake.reduce((n, l) => n + l.conflicts, 0),
  };
}
