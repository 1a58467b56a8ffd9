import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { PipelineSpec } from '../model/pipeline-spec.js';
import type { PipelineWorkflowInput } from '../workflows/pipeline-state.js';
import { pipelineHandle, reconfigureUpdate, specQuery, startPipelineWorkflow } from '../temporal/pipeline-contract.js';
import type { PreflightReport } from '../sources/source-connector.js';
import { TableSelection } from '../sources/table-selection.js';
import { pipelineSearchAttributes } from '../temporal/search-attributes.js';
import { splitTableName } from '../model/table-schema.js';
import { describeRetrying, readStatus, type PipelineStatusRow } from './status.js';

export type StartOutcome = 'started' | 'already-running';

/**
 * Starts a pipeline's workflow unless it runs already, with the pipeline search attributes the
 * server has registered. The spec carries no secret.
 */
export async function startPipeline(
  client: Client,
  taskQueue: string,
  spec: PipelineSpec,
  options: { catchUp?: boolean } = {},
): Promise<StartOutcome> {
  const input: PipelineWorkflowInput = { spec, ...(options.catchUp === true ? { catchUp: true } : {}) };
  try {
    await startPipelineWorkflow(client, taskQueue, input, { searchAttributes: await pipelineSearchAttributes(client, spec) });
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'already-running';
    throw err;
  }
}

/** How a started pipeline got on: `ok` false when it failed (or keeps failing) while starting. */
export interface StartReport {
  pipeline: string;
  ok: boolean;
  message: string;
}

/** How long `ducktail start` waits for pipelines to leave phase `starting`. */
export const START_WAIT_MS = 20_000;

/**
 * Waits (up to `timeoutMs`) until each pipeline has left phase `starting`, so `ducktail start`
 * reports a pipeline that parked in `failed` (or keeps failing) instead of claiming success.
 * Without a worker polling the task queue nothing can happen: says so at once.
 */
export async function waitUntilStarted(
  client: Client,
  taskQueue: string,
  pipelines: string[],
  options: { timeoutMs?: number; pollMs?: number } = {},
): Promise<StartReport[]> {
  if (!(await hasWorker(client, taskQueue))) {
    return pipelines.map((pipeline) => ({
      pipeline,
      ok: true,
      message: `no worker polls task queue ${taskQueue}, so it waits: start one with \`ducktail worker\` (or \`ducktail dev\`)`,
    }));
  }
  const deadline = Date.now() + (options.timeoutMs ?? START_WAIT_MS);
  const reports = new Map<string, StartReport>();
  const last = new Map<string, PipelineStatusRow>();
  while (reports.size < pipelines.length && Date.now() < deadline) {
    for (const pipeline of pipelines.filter((p) => !reports.has(p))) {
      const row = await readStatus(client, pipeline).catch(() => undefined);
      if (row === undefined) continue;
      last.set(pipeline, row);
      const report = await settled(client, row);
      if (report !== null) reports.set(pipeline, report);
    }
    if (reports.size < pipelines.length) await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
  }
  const seconds = Math.round((options.timeoutMs ?? START_WAIT_MS) / 1000);
  return pipelines.map((pipeline) => {
    const done = reports.get(pipeline);
    if (done !== undefined) return done;
    const retrying = last.get(pipeline)?.retrying ?? null;
    if (retrying !== null) {
      return {
        pipeline,
        ok: false,
        message: `still starting after ${seconds} s: ${describeRetrying(retrying)}\n  fix: fix the cause (it keeps retrying; \`ducktail status ${pipeline}\` shows it), or \`ducktail stop ${pipeline}\``,
      };
    }
    return { pipeline, ok: true, message: `still starting after ${seconds} s, no error so far: \`ducktail status ${pipeline}\` shows its progress` };
  });
}

/** The outcome once a pipeline has left `starting` (or its workflow ended), else null. */
async function settled(client: Client, row: PipelineStatusRow): Promise<StartReport | null> {
  const { pipeline, execution, status } = row;
  if (execution === 'COMPLETED') return { pipeline, ok: true, message: `completed (${status?.phase ?? 'done'})` };
  if (execution !== 'RUNNING') {
    const why = await client.workflow.getHandle(row.workflow).result().then(
      () => '',
      (err: unknown) => `: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`,
    );
    return { pipeline, ok: false, message: `workflow ${execution.toLowerCase()}${why}` };
  }
  if (status === null || status.phase === 'starting') return null;
  if (status.phase === 'failed') {
    const e = status.lastError;
    return { pipeline, ok: false, message: `failed while starting: ${e === null ? 'unknown error' : `${e.type}: ${e.message}`}` };
  }
  return { pipeline, ok: true, message: `running (${status.phase})` };
}

/** True when a worker has polled the task queue for workflow tasks recently (about the last minute). */
export async function hasWorker(client: Client, taskQueue: string): Promise<boolean> {
  const res = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue, kind: 1 }, // TASK_QUEUE_KIND_NORMAL
    taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
  });
  return (res.pollers ?? []).length > 0;
}

/**
 * A running pipeline whose spec in the config changed: applies the new spec from its next batch
 * (tables added are copied by incremental snapshot while the others keep streaming; tables
 * removed are no longer replicated, their DuckDB tables stay). Returns what changed, for people;
 * empty when nothing did. Throws when the change is one a running pipeline cannot take.
 */
export async function reconfigurePipeline(client: Client, spec: PipelineSpec, report: PreflightReport | undefined): Promise<string[]> {
  const handle = pipelineHandle(client, spec.name);
  const running = await handle.query(specQuery);
  if (JSON.stringify(running) === JSON.stringify(spec)) return [];
  const before = new TableSelection(running.source.tables);
  const after = new TableSelection(spec.source.tables);
  const added = (report?.tables ?? []).map((t) => t.table).filter((t) => {
    const { schema, name } = splitTableName(t);
    return !before.includes(schema, name);
  });
  const removed = running.source.tables.filter((p) => !spec.source.tables.includes(p));
  const others = (Object.keys(spec) as (keyof PipelineSpec)[]).filter((k) => k !== 'source' && JSON.stringify(spec[k]) !== JSON.stringify(running[k]));
  const now: Record<string, unknown> = { ...spec.source };
  const was: Record<string, unknown> = { ...running.source };
  const sourceOthers = Object.keys(now).filter((k) => k !== 'tables' && JSON.stringify(now[k]) !== JSON.stringify(was[k]));
  await handle.executeUpdate(reconfigureUpdate, { args: [{ spec, added }] });
  const lines: string[] = [];
  if (added.length > 0) lines.push(`tables added: ${added.join(', ')} (copied while the others keep streaming; \`ducktail status ${spec.name}\` shows progress)`);
  if (removed.length > 0) lines.push(`no longer replicated: ${removed.join(', ')} (their DuckDB tables stay)`);
  const settings = [...others, ...sourceOthers.map((k) => `source.${k}`)];
  if (settings.length > 0) lines.push(`settings changed: ${settings.join(', ')} (from the next batch)`);
  if (lines.length === 0) lines.push(`table list changed (${after.patterns.join(', ')}), no table added or removed`);
  return lines;
}
