import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import type { Position } from '../../src/model/position.js';
import type { PipelineSpec } from '../../src/model/pipeline-spec.js';
import type { PipelineStatus } from '../../src/workflows/pipeline-state.js';
import { createTestLake, type TestLake } from '../helpers/ducklake.js';
import { startPipelineWorkflow } from '../helpers/pipelines.js';
import type { SourceDriver } from './driver.js';
import { Prng } from './prng.js';
import { pipelineHandle, queryStatus } from '../../src/temporal/pipeline-contract.js';

export type Mode = 'merge' | 'append';
export const MODES: readonly Mode[] = ['merge', 'append'];

/** Where a pipeline writes: a DuckDB file, or a DuckLake (catalog in PostgreSQL, Parquet in a directory). */
export type DestinationKind = 'duckdb' | 'ducklake';

/** What a run's pipelines write: `mixed` lets the seed decide, the others force one kind on both. */
export const DESTINATION_CHOICES = ['mixed', 'duckdb', 'ducklake'] as const;
export type DestinationChoice = (typeof DESTINATION_CHOICES)[number];

/**
 * The destination of each pipeline. `mixed` (the default): in about half the seeds one of the two
 * pipelines (the seed picks which) writes a lake and the other a DuckDB file; in the rest both
 * write files. Drawn from the seed's own `dest` stream, so the workload and faults of a seed do not
 * change (the label was picked so that the short seeds of `npm test` cover both kinds and both
 * modes in a lake: 101 MERGE, 102 APPEND, 201 MERGE into a lake, 202 files only).
 */
export function planDestinations(seed: number, choice: DestinationChoice = 'mixed'): Record<Mode, DestinationKind> {
  if (choice !== 'mixed') return { merge: choice, append: choice };
  const rng = new Prng(seed).fork('dest');
  const lake = rng.chance(0.5) ? rng.pick(MODES) : null;
  return { merge: lake === 'merge' ? 'ducklake' : 'duckdb', append: lake === 'append' ? 'ducklake' : 'duckdb' };
}

/** The plan in a few words, for reports: `MERGE → ducklake, APPEND → duckdb`. */
export function describeDestinations(plan: Record<Mode, DestinationKind>): string {
  return MODES.map((m) => `${m.toUpperCase()} → ${plan[m]}`).join(', ');
}

/**
 * The run's two pipelines on the same source tables: MERGE and APPEND, each into `<mode>.duckdb`
 * or into a lake of its own (two pipelines of the same tables cannot share a lake: their tables
 * would have the same names).
 */
export interface RunPipelines {
  merge: PipelineSpec;
  append: PipelineSpec;
  configFile: string;
  taskQueue: string;
}

export interface BatchSettings {
  maxRows: number;
  maxWaitMs: number;
  chunkRows: number;
}

export async function writePipelineConfig(
  dir: string,
  runId: string,
  driver: SourceDriver,
  batch: BatchSettings,
  kinds: Record<Mode, DestinationKind>,
  /** Receives each lake as soon as its catalog database exists (the caller drops them). */
  lakes: TestLake[],
): Promise<RunPipelines> {
  const taskQueue = `ducktail-diff-${runId}`;
  const name = (mode: string): string => `dt_${runId}_${mode}`;
  const common = {
    batch: { maxRows: batch.maxRows, maxWaitMs: batch.maxWaitMs, idleWaitMs: 500 },
    snapshot: { enabled: true, chunkRows: batch.chunkRows },
  };
  const destination = async (mode: Mode): Promise<Record<string, unknown>> => {
    if (kinds[mode] === 'duckdb') return { path: `${mode}.duckdb` };
    const lake = await createTestLake(path.join(dir, `lake-${mode}`), `ducktail_diff_lake_${runId}_${mode}`);
    lakes.push(lake);
    return { ...lake.destination };
  };
  const configFile = path.join(dir, 'ducktail.yaml');
  const pipelines: Record<string, unknown>[] = [];
  for (const mode of MODES) pipelines.push({ name: name(mode), source: driver.pipelineSource(name(mode)), destination: await destination(mode), mode, ...common });
  await writeFile(configFile, stringify({ temporal: { taskQueue }, pipelines }));
  const config = await loadConfig(configFile);
  const [merge, append] = config.pipelines as [PipelineSpec, PipelineSpec];
  return { merge, append, configFile, taskQueue };
}

export async function startPipelines(client: Client, p: RunPipelines): Promise<void> {
  for (const spec of [p.merge, p.append]) await startPipelineWorkflow(client, p.taskQueue, spec);
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  try {
    return await Promise.race([work.catch(() => null), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The pipeline's status, or null when it does not answer within `ms` (no worker, or busy). */
export function statusOf(client: Client, pipeline: string, ms = 5_000): Promise<PipelineStatus | null> {
  return withTimeout(queryStatus(pipelineHandle(client, pipeline)), ms);
}

/** What Temporal knows about retrying activities (a retryable failure never reaches the workflow's status). */
export async function pendingActivities(client: Client, pipeline: string): Promise<string> {
  const d = await withTimeout(pipelineHandle(client, pipeline).describe(), 5_000);
  const pending = d?.raw.pendingActivities ?? [];
  if (pending.length === 0) return 'no pending activity';
  return pending
    .map((a) => `${a.activityType?.name ?? '?'} attempt ${a.attempt ?? '?'}${a.lastFailure?.message ? `, last failure: ${a.lastFailure.message.slice(0, 500)}` : ''}`)
    .join('; ');
}

export function describeStatus(s: PipelineStatus | null): string {
  if (s === null) return 'no status (query unanswered)';
  const err = s.lastError === null ? 'none' : `${s.lastError.type}: ${s.lastError.message.slice(0, 400)}`;
  return `phase ${s.phase}, position ${s.position ?? 'none'}, batches ${s.batches}, events ${s.events}, lastError ${err}${s.snapshotProgress === undefined ? '' : `, snapshot ${s.snapshotProgress}`}`;
}

/** Waits until every pipeline has a checkpoint (prepared: its start position is fixed). */
export async function waitPrepared(client: Client, names: string[], timeoutMs: number): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const statuses = await Promise.all(names.map((n) => statusOf(client, n)));
    if (statuses.every((s) => s !== null && s.checkpoint !== null)) return null;
    if (Date.now() > deadline) return `pipelines did not prepare within ${timeoutMs / 1000} s:\n  ${await describePipelines(client, names)}`;
    await new Promise((r) => setTimeout(r, 300));
  }
}

/**
 * Remembers when each pipeline last moved (position, batch count, snapshot rows), so a pipeline
 * that stands still can be called stalled — during the workload (the run then stops early) and
 * while waiting for it to catch up.
 */
export class StallWatch {
  private readonly last = new Map<string, { at: number; fingerprint: string }>();

  observe(name: string, s: PipelineStatus | null, caughtUp = false): void {
    const fp = JSON.stringify([s?.position, s?.batches, s?.checkpoint?.snapshot?.tables.map((t) => t.rows)]);
    const prev = this.last.get(name);
    if (prev === undefined || prev.fingerprint !== fp || caughtUp) this.last.set(name, { at: Date.now(), fingerprint: fp });
  }

  /** A fault just struck: standing still for a while is expected now, so every clock restarts. */
  touch(): void {
    for (const [name, p] of this.last) this.last.set(name, { ...p, at: Date.now() });
  }

  /** The longest time any observed pipeline has stood still (ms). */
  stalledFor(): number {
    return Math.max(0, ...[...this.last.values()].map((p) => Date.now() - p.at));
  }
}

export interface CatchUpLimits {
  /** Fail when a pipeline's position and batch count have not moved for this long. */
  stallMs: number;
  /** Fail after this long in any case. */
  maxMs: number;
}

/** Each pipeline's status and its retrying activity's last failure, for a stall message. */
export async function describePipelines(client: Client, names: string[]): Promise<string> {
  const statuses = await Promise.all(names.map((n) => statusOf(client, n)));
  const details = await Promise.all(names.map(async (n, i) => `${n}: ${describeStatus(statuses[i] ?? null)}; ${await pendingActivities(client, n)}`));
  return details.join('\n  ');
}

/**
 * Waits until every pipeline's checkpoint covers `target`. Bounded: a pipeline in phase `failed`,
 * one that stops making progress, or the overall limit ends the wait with a message carrying
 * each pipeline's status and its retrying activity's last failure (null when caught up).
 */
export async function waitCaughtUp(
  client: Client,
  driver: SourceDriver,
  names: string[],
  target: Position,
  limits: CatchUpLimits,
  watch: StallWatch = new StallWatch(),
): Promise<string | null> {
  const started = Date.now();
  for (;;) {
    const statuses = await Promise.all(names.map((n) => statusOf(client, n)));
    const done = statuses.map((s) => s !== null && s.phase !== 'failed' && driver.reached(s.checkpoint, target));
    if (done.every(Boolean)) return null;
    statuses.forEach((s, i) => watch.observe(names[i]!, s, done[i]));
    const stalledFor = watch.stalledFor();
    const reason = statuses.some((s) => s?.phase === 'failed')
      ? 'a pipeline is in phase failed'
      : stalledFor > limits.stallMs
        ? `a pipeline made no progress for ${Math.round(stalledFor / 1000)} s`
        : Date.now() - started > limits.maxMs
          ? `not caught up after ${Math.round((Date.now() - started) / 1000)} s`
          : null;
    if (reason !== null) return `pipelines did not catch up to the source's end of log (${reason}):\n  ${await describePipelines(client, names)}`;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Stops the workflows: gracefully (cancel, wait for the result) or at once (terminate). */
export async function stopPipelines(client: Client, names: string[], graceful: boolean): Promise<void> {
  for (const n of names) {
    const handle = pipelineHandle(client, n);
    if (graceful) {
      await handle.cancel().catch(() => undefined);
      const done = await withTimeout(handle.result().then(() => true), 30_000);
      if (done === true) continue;
    }
    await handle.terminate('differential run finished').catch(() => undefined);
  }
}
