import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Measured } from './measure.js';
import type { Floor } from './floors.js';
import type { HistoryBreakdown } from './history-breakdown.js';

/** One measurement: a scenario in one mode (and, for pg-steady, at one rate). */
export interface BenchResult {
  scenario: string;
  mode: 'merge' | 'append';
  /** Change events (rows, for a snapshot) the pipeline loaded in the measured part. */
  changes: number;
  seconds: number;
  changesPerSec: number;
  /** What the floor is, e.g. "pgoutput decode (SQL peek)". */
  floor: string;
  floorSeconds: number;
  floorChangesPerSec: number;
  /** changesPerSec / floorChangesPerSec. */
  ratioToFloor: number;
  /** The worker process's peak RSS during the measured part (VmHWM, reset when it began). */
  peakRssMb: number;
  /** The worker's RSS when the measured part began. */
  startRssMb: number;
  batches: number;
  /** Encoded bytes of the workflow history events written in the measured part, per batch. */
  historyBytesPerBatch: number;
  /** The largest batch cycle's history (from a captureBatch scheduled to the next), in bytes. */
  historyMaxCycleBytes: number;
  /** The measured part's history by batch cycle: mean and largest, split into activity inputs, results and the rest. */
  history: HistoryBreakdown;
  /** Summed durations of the capture and load activities (worker debug log); the rest is waiting between them. */
  captureSeconds: number;
  loadSeconds: number;
  /** pg-steady: the rate offered, and commit → visible to a reader polling the DuckDB file. */
  offeredChangesPerSec?: number;
  latencyP50Ms?: number;
  latencyP99Ms?: number;
  latencyMaxMs?: number;
  /** pg-steady: the probe's opens of the DuckDB file, and those refused by the worker's lock. */
  probeOpens?: number;
  refusedOpens?: number;
  /** lake-workers: the worker processes serving the pipelines, each one's peak RSS, how many pipelines each loaded, lake commits lost to a concurrent one. */
  workers?: number;
  peakRssMbPerWorker?: number[];
  pipelinesPerWorker?: number[];
  lakeConflicts?: number;
}

const round = (x: number, digits = 0): number => Number(x.toFixed(digits));

/** A result from a measured part and its floor (the floor read `changes` changes in `floor.seconds`). */
export function makeResult(scenario: string, mode: 'merge' | 'append', changes: number, m: Measured, floorName: string, floor: Floor): BenchResult {
  if (floor.items < changes) throw new Error(`${scenario} (${mode}): the floor (${floorName}) read ${floor.items} items, fewer than the ${changes} changes: it missed data`);
  const changesPerSec = changes / m.seconds;
  const floorChangesPerSec = changes / floor.seconds;
  return {
    scenario,
    mode,
    changes,
    seconds: round(m.seconds, 2),
    changesPerSec: round(changesPerSec),
    floor: floorName,
    floorSeconds: round(floor.seconds, 2),
    floorChangesPerSec: round(floorChangesPerSec),
    ratioToFloor: round(changesPerSec / floorChangesPerSec, 3),
    peakRssMb: round(m.peakRssMb),
    startRssMb: round(m.startRssMb),
    batches: m.batches,
    historyBytesPerBatch: m.batches === 0 ? 0 : round(m.historyBytes / m.batches),
    historyMaxCycleBytes: m.history.maxCycleBytes,
    history: m.history,
    captureSeconds: round(m.captureSeconds, 2),
    loadSeconds: round(m.loadSeconds, 2),
  };
}

/** The scenario and what varies within it: the rate offered, or the workers (and the pipelines each served). */
function label(r: BenchResult): string {
  if (r.offeredChangesPerSec !== undefined) return `${r.scenario} ${r.offeredChangesPerSec / 1000}k/s`;
  if (r.workers !== undefined) return `${r.scenario} ${r.workers === 1 ? '1 worker' : `${r.workers} workers (${(r.pipelinesPerWorker ?? []).join('+')})`}`;
  return r.scenario;
}

const COLUMNS: [string, (r: BenchResult) => string][] = [
  ['scenario', label],
  ['mode', (r) => r.mode],
  ['changes', (r) => r.changes.toLocaleString('en-US')],
  ['s', (r) => r.seconds.toFixed(1)],
  ['changes/s', (r) => r.changesPerSec.toLocaleString('en-US')],
  ['floor/s', (r) => r.floorChangesPerSec.toLocaleString('en-US')],
  ['ratio', (r) => r.ratioToFloor.toFixed(2)],
  ['peak RSS MB', (r) => String(r.peakRssMb)],
  ['batches', (r) => String(r.batches)],
  ['history B/batch', (r) => r.historyBytesPerBatch.toLocaleString('en-US')],
  ['capture s', (r) => r.captureSeconds.toFixed(1)],
  ['load s', (r) => r.loadSeconds.toFixed(1)],
  ['p50 ms', (r) => (r.latencyP50Ms === undefined ? '' : String(r.latencyP50Ms))],
  ['p99 ms', (r) => (r.latencyP99Ms === undefined ? '' : String(r.latencyP99Ms))],
];

/** The results as an aligned text table (numbers right-aligned). */
export function formatTable(results: BenchResult[]): string {
  const rows = [COLUMNS.map(([title]) => title), ...results.map((r) => COLUMNS.map(([, cell]) => cell(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0)));
  return rows
    .map((row) => row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd())
    .join('\n');
}

/** One line on a result's batch cycles: mean and largest, and where the largest one's bytes go. */
export function formatHistory(r: BenchResult): string {
  const { cycles, meanCycleBytes, max } = r.history;
  const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
  return (
    `${r.scenario} (${r.mode}): ${cycles} batch cycles, history mean ${kb(meanCycleBytes)}, max ${kb(max.total)} = ` +
    `capture input ${kb(max.captureInput)} + result ${kb(max.captureResult)}, load input ${kb(max.loadInput)} + result ${kb(max.loadResult)}, ` +
    `events ${kb(max.events)}; of the payloads: spec ${kb(max.spec)}, snapshot progress ${kb(max.snapshotProgress)}, ` +
    `counts ${kb(max.counts)}, schema changes ${kb(max.schemaChanges)}`
  );
}

/** The results as a Markdown table (for the README). */
export function formatMarkdown(results: BenchResult[]): string {
  const lines = [`| ${COLUMNS.map(([title]) => title).join(' | ')} |`, `| ${COLUMNS.map((_, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`];
  for (const r of results) lines.push(`| ${COLUMNS.map(([, cell]) => cell(r)).join(' | ')} |`);
  return lines.join('\n');
}

/** Writes the results as a JSON array to `file`. */
export async function writeResults(file: string, results: BenchResult[]): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
}
