import { Context } from '@temporalio/activity';
import type { PipelineConnectors } from '../composition.js';
import { PositionLostError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Checkpoint } from '../model/checkpoint.js';
import type { SourceRetention } from '../model/retention.js';
import type { SourceConnector } from '../sources/source-connector.js';
import type { ObserveSourceInput, ObserveSourceResult } from './activity-types.js';

/** Heartbeats while an observation waits, well inside the workflow's heartbeat timeout. */
const HEARTBEAT_MS = 5_000;

/**
 * What the source keeps for the pipeline (see `SourceConnector.retention`), or null when it cannot
 * be read now (the source is unreachable: the capture retries on its own). A lost position throws.
 */
export async function readRetention(source: SourceConnector, checkpoint: Checkpoint, logger: Logger, loadedCommitTs?: string | null): Promise<SourceRetention | null> {
  try {
    return await source.retention(checkpoint, loadedCommitTs);
  } catch (err) {
    if (err instanceof PositionLostError) throw err;
    logger.debug({ err }, 'could not read what the source retains');
    return null;
  }
}

/**
 * The `observeSource` activity: waits `waitMs` (heartbeating, so a cancel ends it at once), then
 * measures what the source keeps for the pipeline from its checkpoint in DuckDB. A paused
 * pipeline runs it now and then: its slot or binlog grows while nothing loads.
 */
export async function observeSource(input: ObserveSourceInput, connectors: PipelineConnectors, logger: Logger): Promise<ObserveSourceResult> {
  const { spec, waitMs, loadedCommitTs } = input;
  const ctx = Context.current();
  const until = Date.now() + waitMs;
  for (let left = waitMs; left > 0; left = until - Date.now()) {
    ctx.heartbeat();
    await ctx.sleep(Math.min(HEARTBEAT_MS, left));
  }
  ctx.heartbeat();
  const source = await connectors.source(spec);
  const checkpoint = await (await connectors.destination(spec)).readCheckpoint(spec.name);
  const retention = checkpoint === null ? null : await readRetention(source, checkpoint, logger.child({ pipeline: spec.name }), loadedCommitTs);
  return { retention };
}
