import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { parsePipelineSpec } from '../../src/config/load-config.js';
import { isLake, type DuckDBPipelineSpec, type PipelineSpec } from '../../src/model/pipeline-spec.js';
import type { PipelineStatus } from '../../src/workflows/pipeline-state.js';
import { PG_HOST, PG_PORT, PG_USER } from './postgres.js';
import { waitFor } from './wait.js';
import { pipelineHandle, queryStatus } from '../../src/temporal/pipeline-contract.js';
import { startPipelineWorkflow as startWorkflow } from '../../src/temporal/pipeline-contract.js';

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
}

/** A PostgreSQL pipeline spec for tests (small batches so several cycles run). */
export function pgSpec(name: string, database: string, tables: string[], duckdbPath: string, extra: Record<string, unknown> = {}): DuckDBPipelineSpec {
  return fileSpec(parsePipelineSpec({
    name,
    source: { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database, tables },
    destination: { path: duckdbPath },
    batch: { maxRows: 200, maxWaitMs: 200, idleWaitMs: 500 },
    snapshot: { enabled: true, chunkRows: 150 },
    ...extra,
  }));
}

/** `spec`, which loads a DuckDB file (throws for a lake). */
export function fileSpec(spec: PipelineSpec): DuckDBPipelineSpec {
  const { destination } = spec;
  if (isLake(destination)) throw new Error(`pipeline ${spec.name} loads a lake, not a DuckDB file`);
  return { ...spec, destination };
}

export async function startPipelineWorkflow(
  client: Client,
  taskQueue: string,
  spec: PipelineSpec,
  { catchUp, batchesPerRun }: { catchUp?: boolean; batchesPerRun?: number } = {},
) {
  return startWorkflow(client, taskQueue, { spec, ...(catchUp === undefined ? {} : { catchUp }) }, { batchesPerRun });
}

export async function pipelineStatus(client: Client, pipeline: string): Promise<PipelineStatus> {
  return queryStatus(pipelineHandle(client, pipeline));
}

/** Waits until the pipeline's status satisfies `ok`; the error shows the last status seen. */
export async function waitForStatus(
  client: Client,
  pipeline: string,
  what: string,
  ok: (s: PipelineStatus) => boolean,
  timeoutMs = 60_000,
): Promise<PipelineStatus> {
  let last: PipelineStatus | undefined;
  try {
    return await waitFor(what, async () => {
      last = await pipelineStatus(client, pipeline);
      return ok(last) ? last : undefined;
    }, { timeoutMs });
  } catch (err) {
    throw new Error(`${(err as Error).message}\nlast status: ${JSON.stringify(last)}`);
  }
}
