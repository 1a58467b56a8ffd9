import type { BatchSummary } from '../model/batch.js';
import { describeBackfill, describeSnapshot, type PipelineState } from './pipeline-state.js';

/** Which pipeline, and where it reads and writes. */
export interface PipelineWhere {
  pipeline: string;
  /** `postgres://… → /path/file.duckdb (merge)`, once the spec is known to be valid. */
  route?: string;
}

const n = (value: number): string => value.toLocaleString('en-US');

/**
 * The workflow's current details in the Temporal UI (markdown): a parked pipeline's error and its
 * fix first, then phase, position, lag, last batch and progress. Pure: the workflow renders it
 * again whenever its state changes; `nowMs` is workflow time.
 */
export function renderDetails(state: PipelineState, where: PipelineWhere, nowMs: number): string {
  const name = where.pipeline;
  const parts: string[] = [];
  if (state.phase === 'failed') {
    parts.push(
      `### Failed: ${state.lastError?.type ?? 'error'}`,
      `The pipeline is parked until the cause is fixed; then send the signal \`resume\` (or \`ducktail resume ${name}\`). Nothing is lost: the batch is retried from the checkpoint in DuckDB.`,
    );
  } else if (state.phase === 'paused') {
    parts.push('### Paused', `Send the signal \`resume\` (or \`ducktail resume ${name}\`) to go on; the source keeps the changes meanwhile.`);
  }
  if (state.lastError !== null) parts.push(`**Last error** (${state.lastError.at}):`, fenced(state.lastError.message));
  parts.push(facts(state, where, nowMs).map((line) => `- ${line}`).join('\n'));
  return parts.join('\n\n');
}

function facts(state: PipelineState, where: PipelineWhere, nowMs: number): string[] {
  const lines: string[] = [];
  const pausing = state.paused && state.phase !== 'paused' ? ' (pausing after the current step)' : '';
  lines.push(`**Phase:** ${state.phase}${pausing}${state.phase === 'starting' ? ': checking the input, the source and the destination' : ''}`);
  if (where.route !== undefined) lines.push(`**Replicates:** ${where.route}`);
  lines.push(`**Position:** ${state.position ?? 'none loaded yet'}`);
  const lag = [state.lagSeconds === null ? null : `${state.lagSeconds.toFixed(1)} s`, state.lagBytes === null ? null : `${n(state.lagBytes)} bytes of log`];
  if (lag.some((l) => l !== null)) lines.push(`**Lag:** ${lag.filter((l) => l !== null).join(', ')}`);
  if (state.lastBatchAt !== null) lines.push(`**Last batch:** ${state.lastBatchAt}, ${n(state.lastBatchEvents ?? 0)} changes`);
  lines.push(`**Loaded:** ${n(state.batches)} batches, ${n(state.events)} changes, since ${state.startedAt}`);
  const snapshot = describeSnapshot(state);
  if (snapshot !== undefined) lines.push(`**Snapshot:** ${snapshot}`);
  const backfill = describeBackfill(state.checkpoint?.backfill, nowMs);
  if (backfill !== undefined) lines.push(`**Re-sync:** ${backfill}`);
  const requested = (state.backfillRequests ?? []).flatMap((r) => r.tables);
  if (requested.length > 0) lines.push(`**Re-sync requested:** ${requested.join(', ')}`);
  if ((state.resync ?? []).length > 0) lines.push(`**Needs a re-sync:** ${(state.resync ?? []).join('; ')}`);
  if (state.step != null) lines.push(`**Now:** ${state.step.activity} since ${state.step.since}`);
  for (const w of state.warnings.slice(0, 5)) lines.push(`**Warning:** ${w}`);
  return lines;
}

/** A code block holding `text` as is (markdown in an error message stays text). */
function fenced(text: string): string {
  return ['```', text.replaceAll('```', "'''"), '```'].join('\n');
}

/** The capture activity's summary in the UI: `capture batch 1043 from 0/16B3748`. */
export function captureSummary(state: PipelineState): string {
  const snapshot = state.phase === 'snapshot' ? ' (snapshot)' : '';
  return `capture batch ${state.batches + 1}${snapshot} from ${state.position ?? 'the checkpoint'}`;
}

/** The load activity's summary in the UI: `batch 1042: 98,304 changes, 3 tables`. */
export function loadSummary(state: PipelineState, batch: BatchSummary): string {
  const tables = Object.keys(batch.counts).length;
  const what = batch.events === 0 && tables === 0 ? 'no changes (moves the position)' : `${n(batch.events)} change${batch.events === 1 ? '' : 's'}, ${n(tables)} table${tables === 1 ? '' : 's'}`;
  const schema = batch.schemaChanges.length > 0 ? `, ${batch.schemaChanges.length} schema change${batch.schemaChanges.length === 1 ? '' : 's'}` : '';
  return `batch ${state.batches + 1}: ${what}${schema}`;
}
