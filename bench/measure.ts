import type { PipelineStatus } from '../src/temporal/pipeline-contract.js';
import { breakDownHistory, type HistoryBreakdown } from './history-breakdown.js';
import { eventBytes, type HistoryMark } from './history.js';
import type { BenchPipeline } from './pipeline.js';
import { readBatchTimings, type WorkerProcess } from './worker-process.js';

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
