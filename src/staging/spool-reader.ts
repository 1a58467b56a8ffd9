import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { StaleBatchError } from '../errors.js';
import type { BatchManifest, RowSegment } from '../model/batch.js';
import { SPOOL_FIELDS, type SpoolField } from './spool-format.js';
import { MANIFEST_FILE } from './spool-paths.js';

/** What a loader needs to read a staged row segment: its files and how their lines are encoded. */
export interface StagedSegment {
  /** Absolute paths, in order; together they hold the segment's rows. */
  files: string[];
  /** `ndjson`: one `SpoolLine` per line. */
  format: 'ndjson';
  /** The fields of every line, in order. */
  fields: readonly SpoolField[];
  /** No line is longer (UTF-8 bytes): a reader's buffers need not be larger. */
  maxLineBytes: number;
}

/** The longest line a batch staged by an older version (which did not record it) may hold. */
const LEGACY_MAX_LINE_BYTES = 512 * 1024 * 1024;

/** The manifest of the staged batch in `spoolDir`; throws `StaleBatchError` when the batch is gone. */
export async function readManifest(spoolDir: string): Promise<BatchManifest> {
  try {
    return JSON.parse(await readFile(path.join(spoolDir, MANIFEST_FILE), 'utf8')) as BatchManifest;
  } catch {
    throw new StaleBatchError(`staged batch ${spoolDir} is gone`, 'nothing to do: the pipeline captures the batch again');
  }
}

/** Locates a row segment of the batch in `spoolDir`; throws `StaleBatchError` when its rows are gone. */
export async function stagedSegment(spoolDir: string, segment: RowSegment): Promise<StagedSegment> {
  const file = path.resolve(spoolDir, segment.file);
  try {
    await access(file);
  } catch {
    throw new StaleBatchError(`staged rows ${file} are gone`, 'nothing to do: the pipeline captures the batch again');
  }
  return { files: [file], format: 'ndjson', fields: SPOOL_FIELDS, maxLineBytes: segment.maxLineBytes ?? LEGACY_MAX_LINE_BYTES };
}
