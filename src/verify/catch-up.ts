import { readStoredCheckpoint } from '../destinations/duckdb/duckdb-checkpoint.js';
import type { Checkpoint } from '../model/checkpoint.js';
import type { Position } from '../model/position.js';
import type { SourceConnector } from '../sources/source-connector.js';
import type { CopyReader, PinnedCopy } from './copy-reader.js';

export interface CatchUpOutcome {
  reached: boolean;
  /** The source position waited for, and the loaded checkpoint when the wait ended (described). */
  target: string;
  checkpoint: string | null;
  waitedMs: number;
}

function describeCheckpoint(source: SourceConnector, cp: Checkpoint | null): string | null {
  if (cp === null) return null;
  if (cp.snapshot !== undefined && cp.snapshot.tables.some((t) => !t.done)) return 'initial snapshot in progress';
  return cp.position === null ? null : source.describe(cp.position);
}

/**
 * Waits until the pipeline's loaded checkpoint in the copy (the truth of what is loaded) covers
 * `target`, looking every `pollMs` with a short read of one state of the copy (an open of the
 * file, a lake transaction). In the read that finds it covered (or the last one, when `timeoutMs`
 * runs out) it runs `read`, so `read` sees the copy exactly as of that checkpoint: at most one
 * batch past `target`.
 */
export async function readWhenCaughtUp<T>(
  source: SourceConnector,
  reader: CopyReader,
  pipeline: string,
  target: Position,
  timeoutMs: number,
  read: (copy: PinnedCopy) => Promise<T>,
  pollMs = 200,
): Promise<{ outcome: CatchUpOutcome; value: T }> {
  const started = Date.now();
  for (;;) {
    const found = await reader.withCopy(async (copy) => {
      const checkpoint = await readStoredCheckpoint(copy.runner, pipeline);
      const reached = checkpoint !== null && source.reached(checkpoint, target);
      if (!reached && Date.now() - started < timeoutMs) return null;
      return { reached, checkpoint, value: await read(copy) };
    });
    if (found !== null) {
      const outcome = {
        reached: found.reached,
        target: source.describe(target),
        checkpoint: describeCheckpoint(source, found.checkpoint),
        waitedMs: Date.now() - started,
      };
      return { outcome, value: found.value };
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
