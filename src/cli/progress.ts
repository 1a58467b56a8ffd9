import type { Client } from '@temporalio/client';
import { createLogUpdate } from 'log-update';
import type { PipelineSpec } from '../model/pipeline-spec.js';
import { formatStatus, readStatuses, type PipelineStatusRow } from './status.js';

export interface ProgressOptions {
  signal: AbortSignal;
  /** Return once no pipeline workflow is running any more. */
  untilDone: boolean;
  intervalMs?: number;
  /** Lines shown under the table on a terminal (e.g. where the log is and the newest problems). */
  footer?: () => string;
}

/**
 * Shows every pipeline's status, redrawn in place on a terminal and printed when it changes
 * elsewhere. Returns an exit code: 0, or 1 when a pipeline failed or is parked on an error in
 * `untilDone` mode.
 */
export async function watchProgress(client: Client, pipelines: PipelineSpec[], options: ProgressOptions): Promise<number> {
  const interval = options.intervalMs ?? 1000;
  const tty = process.stderr.isTTY;
  const render = tty ? createLogUpdate(process.stderr) : undefined;
  let last = '';
  try {
    while (!options.signal.aborted) {
      const rows = await readStatuses(client, pipelines).catch(() => null);
      if (rows !== null) {
        const text = formatStatus(rows);
        if (render !== undefined) render(options.footer === undefined ? text : `${text}\n${options.footer()}`);
        else if (summaryOf(text) !== summaryOf(last)) process.stderr.write(text + '\n');
        last = text;
        if (options.untilDone) {
          const code = doneCode(rows);
          if (code !== null) return code;
        }
      }
      await sleep(interval, options.signal);
    }
    return 0;
  } finally {
    render?.done();
  }
}

function doneCode(rows: PipelineStatusRow[]): number | null {
  if (rows.some((r) => r.status?.phase === 'failed' || r.execution === 'FAILED' || r.execution === 'TERMINATED')) {
    return 1;
  }
  return rows.every((r) => r.execution !== 'RUNNING') ? 0 : null;
}

/** Lag and timestamps change every poll; print on structural change only when not on a terminal. */
function summaryOf(text: string): string {
  return text.replace(/lag [^\n]*? {3}/g, '');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
