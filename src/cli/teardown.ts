import { rm } from 'node:fs/promises';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { removeUpkeepSchedule } from '../temporal/upkeep-schedule.js';
import { createConnectors } from '../composition.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PipelineSpec } from '../model/pipeline-spec.js';
import { spoolRoot } from '../staging/spool-paths.js';
import { workflowId } from './context.js';

/**
 * Removes what a stopped pipeline holds at the source (replication slot, publication), its
 * checkpoint in DuckDB and its staged batches, so the WAL is freed and a later start copies the
 * tables afresh. Replicated tables stay in DuckDB.
 */
export async function teardownPipeline(client: Client, spec: PipelineSpec, logger: Logger): Promise<void> {
  try {
    const description = await client.workflow.getHandle(workflowId(spec.name)).describe();
    if (description.status.name === 'RUNNING') {
      throw new ConfigError(`pipeline ${spec.name} is running`, `stop it first: ducktail stop ${spec.name}`);
    }
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  // DuckDB first: a file held by another process must fail before the source is touched. (The
  // file may be released for readers between two calls, so forget the checkpoint now rather than
  // after the slot is gone. A source teardown that fails then leaves a pipeline that re-snapshots
  // if started again, or finishes when `teardown` runs again.)
  const connectors = createConnectors({ logger });
  try {
    await (await connectors.destination(spec)).forgetPipeline(spec.name);
    await (await connectors.source(spec)).teardown();
  } finally {
    await connectors.close();
  }
  // Batches staged but never loaded (or read ahead) belong to the positions just given up.
  await rm(spoolRoot(spec), { recursive: true, force: true });
  // A lake's upkeep schedule goes with the pipeline (the lake itself and its tables stay).
  await removeUpkeepSchedule(client, spec.name);
}
