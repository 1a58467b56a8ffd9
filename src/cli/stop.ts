import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { CommandTimeoutError } from '../errors.js';
import { workflowId } from './context.js';
import { describeRetrying, readStatus, type PipelineStatusRow } from './status.js';

export interface StopOptions {
  /** Wait for the workflow to finish (false: request the stop and return). */
  wait: boolean;
  /** How long to wait before giving up, in ms. */
  timeoutMs: number;
  /** Terminate at once instead of stopping after the current batch. */
  force: boolean;
  /** Progress lines (what the stop is waiting for). */
  say: (line: string) => void;
  pollMs?: number;
}

export type StopOutcome = 'stopped' | 'stop requested' | 'terminated' | 'not running';

/**
 * Stops a pipeline gracefully (cancels its workflow: the current batch completes, then it stops),
 * saying what it is waiting for, and gives up after `timeoutMs` with an error naming `--force`.
 * `force` terminates the workflow at once: safe, because the checkpoint lives in DuckDB, in the
 * same transaction as the rows it covers; the next start resumes from it.
 */
export async function stopPipeline(client: Client, pipeline: string, options: StopOptions): Promise<StopOutcome> {
  const handle = client.workflow.getHandle(workflowId(pipeline));
  try {
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') return 'not running';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'not running';
    throw err;
  }
  if (options.force) {
    await handle.terminate('ducktail stop --force');
    return 'terminated';
  }
  await handle.cancel();
  if (!options.wait) return 'stop requested';

  const deadline = Date.now() + options.timeoutMs;
  const finished = handle.result().then(
    () => true,
    () => true, // terminated or failed meanwhile: it is not running any more either way
  );
  let lastSaid = '';
  let row: PipelineStatusRow | null = null;
  for (;;) {
    const done = await Promise.race([finished, sleep(options.pollMs ?? 1_000).then(() => false)]);
    if (done) return 'stopped';
    row = await readStatus(client, pipeline).catch(() => row);
    const waitingFor = row === null ? 'the workflow to finish' : describeWait(row);
    if (waitingFor !== lastSaid) {
      options.say(`${pipeline}: stopping after the current step; waiting for ${waitingFor}`);
      lastSaid = waitingFor;
    }
    if (Date.now() >= deadline) {
      throw new CommandTimeoutError(
        `pipeline ${pipeline} did not stop within ${Math.round(options.timeoutMs / 1000)} s: still waiting for ${waitingFor}`,
        `fix what keeps the step from finishing (the stop completes as soon as it does), wait longer with --timeout, or run \`ducktail stop --force ${pipeline}\` ` +
          'to terminate the workflow now — nothing is lost: the checkpoint lives in DuckDB with the rows it covers, and the next `ducktail start` resumes from it',
      );
    }
  }
}

/** What a stopping pipeline still waits for, for people. */
export function describeWait(row: PipelineStatusRow): string {
  if (row.retrying !== null) return `the current batch: ${describeRetrying(row.retrying)}`;
  if (row.current !== null) {
    const since = row.current.startedAt === null ? '' : ` since ${row.current.startedAt}`;
    return `the current batch: ${row.current.activity} (attempt ${row.current.attempt}, ${row.current.state.toLowerCase()}${since})`;
  }
  if (row.status?.phase === 'failed') return 'the workflow to leave phase failed';
  return 'the workflow to finish';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
