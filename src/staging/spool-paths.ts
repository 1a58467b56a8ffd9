import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isLake, type PipelineSpec } from '../model/pipeline-spec.js';

/** The file that makes a staged batch visible to the load, written last (see `BatchManifest`). */
export const MANIFEST_FILE = 'manifest.json';

/** Where the batches of every pipeline writing the DuckDB file `destinationPath` are staged. */
export function spoolBaseDir(destinationPath: string): string {
  return `${destinationPath}-spool`;
}

/**
 * Staged batches live beside the DuckDB file, so a load after a worker restart finds them. A lake
 * has no local file: its batches are staged in the worker host's temp directory (a load on
 * another host finds none and the workflow captures the batch again from the checkpoint).
 */
export function spoolRoot(spec: PipelineSpec): string {
  const base = isLake(spec.destination) ? path.join(tmpdir(), 'ducktail-lake-spool') : spoolBaseDir(spec.destination.path);
  return `${base}${path.sep}${spec.name}`;
}

/** The directory of one staged batch. */
export function batchDir(spec: PipelineSpec, batchId: string): string {
  return path.join(spoolRoot(spec), batchId);
}

/** The name of a batch's `index`th segment file (0-based, in manifest order). */
export function segmentFileName(index: number): string {
  return `${String(index).padStart(5, '0')}.ndjson`;
}

export function newBatchId(): string {
  return `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** Removes staged batches left by captures whose load never ran (the workflow re-captures them), except batch `keep`. */
export async function removeOldSpools(spec: PipelineSpec, keep?: string): Promise<void> {
  const root = spoolRoot(spec);
  const entries = await readdir(root).catch(() => [] as string[]);
  await Promise.all(entries.filter((e) => e !== keep).map((e) => rm(path.join(root, e), { recursive: true, force: true })));
}
