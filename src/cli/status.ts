import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { optionalTsToDate } from '@temporalio/common/lib/time.js';
import type { PipelineSpec } from '../model/pipeline-spec.js';
import type { PipelineStatus } from '../workflows/pipeline-state.js';
import { queryStatus, workflowId } from '../temporal/pipeline-contract.js';
import { formatBytes } from '../util/bytes.js';
import { formatDuration } from '../util/duration.js';

/**
 * An activity of the pipeline that has failed and is being retried by Temporal. A retryable
 * failure never reaches the workflow (so its `lastError` stays empty): only the execution's
 * pending-activity info shows it.
 */
export interface RetryingActivity {
  /** captureBatch, loadBatch, preparePipeline, sourcePosition. */
  activity: string;
  /** The attempt running or scheduled next; attempts before it failed. */
  attempt: number;
  /** Failures so far (attempt - 1). */
  failures: number;
  /** The error of the last failed attempt. */
  error: string;
  /** The failure type (e.g. `DestinationBusyError`, `SourceConnectionError`), or null for an unclassified error. */
  errorType: string | null;
  /**
   * When the failing step's first attempt was scheduled (from the workflow's status; the failures
   * began after it), else when the current attempt was scheduled.
   */
  since: string | null;
  /** When the latest attempt started, if one has. */
  lastAttemptAt: string | null;
  /** When the next attempt is scheduled, while waiting for it (null while an attempt runs). */
  nextRetryAt: string | null;
  /** SCHEDULED (waiting for its retry) or STARTED (an attempt runs now). */
  state: string;
}

/** The activity a pipeline is currently running (or waiting to retry), if any. */
export interface CurrentActivity {
  activity: string;
  attempt: number;
  state: string;
  startedAt: string | null;
}

export interface PipelineStatusRow {
  pipeline: string;
  workflow: string;
  /** RUNNING, COMPLETED, FAILED, ... or NOT_STARTED. */
  execution: string;
  status: PipelineStatus | null;
  /** The step that keeps failing and is being retried, or null. */
  retrying: RetryingActivity | null;
  /** The step in progress, or null between steps. */
  current: CurrentActivity | null;
  /** Why the status query could not be answered (e.g. no worker is running), or null. */
  queryError?: string;
  /** Why the run failed (FAILED, TIMED_OUT, TERMINATED), e.g. an invalid input typed into the Temporal UI. */
  failure?: string;
}

const QUERY_TIMEOUT_MS = 5_000;

/** The status of each pipeline: its workflow's state, its pending activity and, when it runs, its `status` query. */
export async function readStatuses(client: Client, pipelines: PipelineSpec[]): Promise<PipelineStatusRow[]> {
  return Promise.all(pipelines.map((spec) => readStatus(client, spec.name)));
}

export async function readStatus(client: Client, pipeline: string): Promise<PipelineStatusRow> {
  const id = workflowId(pipeline);
  const handle = client.workflow.getHandle(id);
  const row: PipelineStatusRow = { pipeline, workflow: id, execution: 'NOT_STARTED', status: null, retrying: null, current: null };
  let description: WorkflowExecutionDescription;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return row;
    throw err;
  }
  row.execution = description.status.name;
  ({ retrying: row.retrying, current: row.current } = pendingActivity(description));
  try {
    if (row.execution === 'RUNNING') {
      // A query needs a worker; without one it would wait, so bound it and say why it failed.
      row.status = await client.connection.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => queryStatus(handle));
    } else if (row.execution === 'COMPLETED') {
      row.status = (await handle.result()) as PipelineStatus;
    } else if (row.execution === 'FAILED' || row.execution === 'TIMED_OUT' || row.execution === 'TERMINATED') {
      row.failure = await handle.result().then(
        () => 'no reason recorded',
        (err: unknown) => failureText(err),
      );
    }
  } catch (err) {
    row.queryError = (err as Error).message;
  }
  // The workflow knows when the step began (its first attempt); the pending activity only knows the current attempt.
  const step = row.status?.step;
  if (row.retrying !== null && step != null && step.activity === row.retrying.activity) row.retrying.since = step.since;
  return row;
}

/** The pipeline's pending activity (one at a time) and, when it has failed before, what failed. */
export function pendingActivity(description: WorkflowExecutionDescription): { retrying: RetryingActivity | null; current: CurrentActivity | null } {
  const pending = description.raw.pendingActivities ?? [];
  const p = pending[0];
  if (p === undefined) return { retrying: null, current: null };
  const activity = p.activityType?.name ?? 'activity';
  const state = pendingState(p.state);
  const iso = (ts: Parameters<typeof optionalTsToDate>[0]): string | null => optionalTsToDate(ts)?.toISOString() ?? null;
  const attempt = p.attempt ?? 1;
  const current: CurrentActivity = { activity, attempt, state, startedAt: iso(p.lastStartedTime) };
  const failure = p.lastFailure;
  if (failure === null || failure === undefined || attempt <= 1) return { retrying: null, current };
  return {
    current,
    retrying: {
      activity,
      attempt,
      failures: attempt - 1,
      error: failure.message ?? '(no message)',
      errorType: failure.applicationFailureInfo?.type ?? null,
      since: iso(p.scheduledTime),
      lastAttemptAt: iso(p.lastStartedTime),
      nextRetryAt: iso(p.nextAttemptScheduleTime),
      state,
    },
  };
}

function pendingState(state: number | null | undefined): string {
  // temporal.api.enums.v1.PendingActivityState
  return ['UNSPECIFIED', 'SCHEDULED', 'STARTED', 'CANCEL_REQUESTED', 'PAUSED', 'PAUSE_REQUESTED'][state ?? 0] ?? 'UNSPECIFIED';
}

/** One line (plus indented continuation lines) describing a step that keeps failing. */
export function describeRetrying(r: RetryingActivity): string {
  const when = r.nextRetryAt !== null ? `next attempt ${r.nextRetryAt}` : `attempt ${r.attempt} running since ${r.lastAttemptAt ?? '?'}`;
  const since = r.since === null ? '' : ` since ${r.since}`;
  return `${r.activity} failed ${r.failures} time${r.failures === 1 ? '' : 's'}${since} (${when}): ${r.errorType === null || r.errorType === 'Error' ? '' : `${r.errorType}: `}${r.error}`;
}

export function formatStatus(rows: PipelineStatusRow[]): string {
  return rows.map(formatRow).join('\n');
}

function formatRow(row: PipelineStatusRow): string {
  const s = row.status;
  const lines: string[] = [];
  if (s === null) {
    lines.push(`${row.pipeline}: ${row.execution.toLowerCase().replace('_', ' ')} (workflow ${row.workflow})`);
    if (row.failure !== undefined) lines.push(indent(`  ${row.failure}`), `  start it again once fixed: ducktail start ${row.pipeline}`);
  } else {
    lines.push(
      `${row.pipeline}: ${s.phase}${s.paused && s.phase !== 'paused' ? ' (paused)' : ''} — ${row.execution.toLowerCase()} workflow ${row.workflow}`,
      `  ${s.source} → ${s.destination} [${s.mode}]`,
      `  position ${s.position ?? '-'}   lag ${formatLag(s)}   batches ${s.batches}   changes ${s.events}`,
    );
    for (const [table, ops] of Object.entries(s.counts)) {
      lines.push(`  ${table}: ${Object.entries(ops).map(([op, n]) => `${op} ${n}`).join(', ')}`);
    }
    lines.push(...formatRetention(s));
    if (s.home !== undefined) lines.push(`  served by worker ${s.home.slice(s.home.lastIndexOf('@') + 1)}`);
    if (s.snapshotProgress !== undefined) lines.push(`  snapshot: ${s.snapshotProgress}`);
    if (s.backfillProgress !== undefined) lines.push(`  re-sync: ${s.backfillProgress}`);
    if (s.lastError !== null) lines.push(indent(`  last error (${s.lastError.at}) ${s.lastError.type}: ${s.lastError.message}`));
    for (const r of s.resync ?? []) lines.push(`  NEEDS RE-SYNC: ${r} (run: ducktail resync ${row.pipeline} ${r.slice(0, r.indexOf(':'))})`);
  }
  if (row.retrying !== null) lines.push(indent(`  RETRYING: ${describeRetrying(row.retrying)}`));
  if (row.queryError !== undefined) lines.push(`  status query failed: ${row.queryError} (is a worker running? start one with \`ducktail worker\`)`);
  return lines.join('\n');
}

/** A failed run's reason: its failure's message and the causes under it (the error with its fix). */
export function failureText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 4; e = e.cause) {
    // The client's wrapper says only that the workflow failed; the cause says why.
    if (!/^Workflow execution (failed|terminated|timed out)/i.test(e.message)) parts.push(e.message);
  }
  return parts.length > 0 ? parts.join(': ') : String(err);
}

/** Indents continuation lines of a multi-line message (e.g. its `fix:` line) under the first. */
function indent(text: string): string {
  return text.replace(/\n/g, '\n    ');
}

/**
 * What the source keeps for the pipeline, and its warnings:
 * `source retains: 12.3 MiB of WAL (warn at 1.00 GiB)`, then `WARNING: …` lines. Nothing until measured.
 */
export function formatRetention(s: Pick<PipelineStatus, 'retention' | 'retentionWarnBytes'>): string[] {
  const r = s.retention;
  if (r == null) return [];
  const notes: string[] = [];
  if (s.retentionWarnBytes !== undefined) notes.push(`warn at ${formatBytes(s.retentionWarnBytes)}`);
  if (r.walStatus !== undefined) notes.push(`wal_status ${r.walStatus}`);
  if (r.safeWalBytes !== undefined) notes.push(`lost after ${formatBytes(r.safeWalBytes)} more WAL`);
  if (r.binlogExpirySeconds !== undefined) notes.push(`binlog expiry ${formatDuration(r.binlogExpirySeconds)}`);
  if (r.purgeInSeconds !== undefined) notes.push(r.purgeInSeconds === 0 ? 'may be purged at the next rotation' : `may be purged in ${formatDuration(r.purgeInSeconds)}`);
  const from = r.oldestBinlog === undefined ? '' : ` from ${r.oldestBinlog}`;
  const amount = r.bytes === null ? `? (${r.log} retained cannot be told now)` : `${formatBytes(r.bytes)} of ${r.log}${from}`;
  return [`  source retains: ${amount}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`, ...r.warnings.map((w) => `  WARNING: ${w}`)];
}

function formatLag(s: PipelineStatus): string {
  const bytes = s.lagBytes === null ? '?' : formatBytes(s.lagBytes);
  const secs = s.lagSeconds === null ? '?' : `${s.lagSeconds.toFixed(1)} s`;
  return `${bytes} / ${secs}`;
}

export { formatBytes };
