import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { PipelineSpec } from '../model/pipeline-spec.js';
import type { PipelineStatus } from '../workflows/pipeline-state.js';
import { workflowId } from './context.js';

export interface PipelineStatusRow {
  pipeline: string;
  workflow: string;
  /** RUNNING, COMPLETED, FAILED, ... or NOT_STARTED. */
  execution: string;
  status: PipelineStatus | null;
}

/** The status of each pipeline: its workflow's state and, when it runs, its `status` query. */
export async function readStatuses(client: Client, pipelines: PipelineSpec[]): Promise<PipelineStatusRow[]> {
  return Promise.all(
    pipelines.map(async (spec): Promise<PipelineStatusRow> => {
      const id = workflowId(spec.name);
      const handle = client.workflow.getHandle(id);
      try {
        const description = await handle.describe();
        const execution = description.status.name;
        let status: PipelineStatus | null = null;
        if (execution === 'RUNNING') status = await handle.query<PipelineStatus>('status');
        else if (execution === 'COMPLETED') status = (await handle.result()) as PipelineStatus;
        return { pipeline: spec.name, workflow: id, execution, status };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { pipeline: spec.name, workflow: id, execution: 'NOT_STARTED', status: null };
        throw err;
      }
    }),
  );
}

export function formatStatus(rows: PipelineStatusRow[]): string {
  return rows.map(formatRow).join('\n');
}

function formatRow(row: PipelineStatusRow): string {
  const s = row.status;
  if (s === null) return `${row.pipeline}: ${row.execution.toLowerCase().replace('_', ' ')} (workflow ${row.workflow})`;
  const lines = [
    `${row.pipeline}: ${s.phase}${s.paused ? ' (paused)' : ''} — ${row.execution.toLowerCase()} workflow ${row.workflow}`,
    `  ${s.source} → ${s.destination} [${s.mode}]`,
    `  position ${s.position ?? '-'}   lag ${formatLag(s)}   batches ${s.batches}   changes ${s.events}`,
  ];
  for (const [table, ops] of Object.entries(s.counts)) {
    lines.push(`  ${table}: ${Object.entries(ops).map(([op, n]) => `${op} ${n}`).join(', ')}`);
  }
  if (s.snapshotProgress !== undefined) lines.push(`  snapshot: ${s.snapshotProgress}`);
  if (s.lastError !== null) lines.push(`  last error (${s.lastError.at}) ${s.lastError.type}: ${s.lastError.message}`);
  return lines.join('\n');
}

function formatLag(s: PipelineStatus): string {
  const bytes = s.lagBytes === null ? '?' : formatBytes(s.lagBytes);
  const secs = s.lagSeconds === null ? '?' : `${s.lagSeconds.toFixed(1)} s`;
  return `${bytes} / ${secs}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
