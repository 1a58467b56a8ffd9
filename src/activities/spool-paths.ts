import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { StaleBatchError } from '../errors.js';
import type { BatchManifest } from '../model/batch.js';
import type { PipelineSpec } from '../model/pipeline-spec.js';

/** Staged batches live beside the DuckDB file, so a load after a worker restart finds them. */
export function spoolRoot(spec: PipelineSpec): string {
  return `${spec.destination.path}-spool${path.sep}${spec.name}`;
}

export function newBatchId(): string {
  return `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** Removes staged batches left by captures whose load never ran (the workflow re-captures them). */
export async function removeOldSpools(spec: PipelineSpec): Promise<void> {
  const root = spoolRoot(spec);
  const entries = await readdir(root).catch(() => [] as string[]);
  await Promise.all(entries.map((e) => rm(path.join(root, e), { recursive: true, force: true })));
}

export async function readManifest(spoolDir: string): Promise<BatchManifest> {
  try {
    return JSON.parse(await readFile(path.join(spoolDir, 'manifest.json'), 'utf8')) as BatchManifest;
  } catch {
    throw new StaleBatchError(`staged batch ${spoolDir} is gone`, 'nothing to do: the pipeline captures the batch again');
  }
}
