import type { Position } from './position.js';

/** Progress of one table's initial copy. `lastKey` holds the primary key of the last row copied, as text. */
export interface TableSnapshotProgress {
  table: string;
  done: boolean;
  rows: number;
  lastKey?: (string | null)[];
}

/**
 * Progress of the initial snapshot. `startPosition` is the stream position the copy is consistent
 * with: streaming begins there once every table is done.
 */
export interface SnapshotProgress {
  startPosition: Position;
  tables: TableSnapshotProgress[];
  /** False once a crash interrupted the exported snapshot and later chunks were read outside it. */
  consistent: boolean;
}

/**
 * What has been durably loaded into DuckDB for a pipeline: the truth after any restart.
 * Stored in `_ducktail.checkpoints` in the same transaction as the rows it covers.
 */
export interface Checkpoint {
  /** Last stream position loaded; null until streaming has begun. */
  position: Position | null;
  /** Present while the initial snapshot is still running. */
  snapshot?: SnapshotProgress;
  /** Id of the batch that wrote this checkpoint ('' for the initial one). */
  batchId: string;
}

/** Canonical JSON of a checkpoint, for equality checks (never ordering). */
export function checkpointKey(checkpoint: Checkpoint | null): string {
  return checkpoint === null ? 'null' : canonicalJson(checkpoint);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
