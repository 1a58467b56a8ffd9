import type { Json } from '@duckdb/node-api';
import { intervalSeconds } from '../../model/interval.js';
import type { LakeUpkeepSpec } from '../../model/pipeline-spec.js';
import { quoteLiteral } from '../duckdb/duckdb-sql.js';
import { LAKE_CATALOG, type DuckLakeSession } from './ducklake-session.js';

/** What one upkeep run did to a lake (counts from DuckLake's own maintenance functions). */
export interface LakeUpkeepReport {
  /** Small data files merged into `filesCreated` larger ones (adjacent files of each table). */
  filesMerged: number;
  filesCreated: number;
  /** Data files rewritten to drop the rows their delete files remove. */
  filesRewritten: number;
  /** Snapshots older than `keepSnapshots` expired (no longer readable by time travel). */
  snapshotsExpired: number;
  /** Files deleted from the data path: scheduled for deletion (merged, expired) or no longer tracked at all. */
  filesDeleted: number;
  orphansDeleted: number;
  /** The lake after upkeep: snapshots kept, data files in use. */
  snapshots: number;
  dataFiles: number;
  ms: number;
}

/** One step of upkeep; `onStep` hears of each before it runs (for heartbeats and logs). */
export type UpkeepStep = 'merge' | 'rewrite' | 'expire' | 'cleanup' | 'orphans';

/**
 * Lake upkeep, in the order DuckLake's CHECKPOINT runs it (without its flush of inlined data:
 * Ducktail writes none): merge adjacent small files, rewrite files with many deleted rows, expire
 * snapshots older than `keepSnapshots`, then delete files no longer used (scheduled for deletion,
 * or in the data path but unknown to the catalog) once older than `keepFiles`, so a query that
 * started before they were replaced still finds them. Each step is its own lake commit: a step
 * that loses to a concurrent load throws the retryable `LakeCommitConflictError`, and a run again
 * only does what is left.
 */
export async function runLakeUpkeep(session: DuckLakeSession, settings: LakeUpkeepSpec, onStep: (step: UpkeepStep) => void = () => undefined): Promise<LakeUpkeepReport> {
  const started = Date.now();
  const lake = quoteLiteral(LAKE_CATALOG);
  const olderThan = (interval: string): string => `now() - INTERVAL '${intervalSeconds(interval)} seconds'`;
  const call = async (step: UpkeepStep, sql: string): Promise<Json[][]> => {
    onStep(step);
    return (await session.table(sql)).rows;
  };
  const fileCounts = (rows: Json[][]): [number, number] => [sum(rows, 2), sum(rows, 3)];

  const [filesMerged, filesCreated] = fileCounts(await call('merge', `CALL ducklake_merge_adjacent_files(${lake})`));
  const [filesRewritten] = fileCounts(await call('rewrite', `CALL ducklake_rewrite_data_files(${lake})`));
  const expired = await call('expire', `CALL ducklake_expire_snapshots(${lake}, older_than => ${olderThan(settings.keepSnapshots)})`);
  const deleted = await call('cleanup', `CALL ducklake_cleanup_old_files(${lake}, older_than => ${olderThan(settings.keepFiles)})`);
  const orphans = await call('orphans', `CALL ducklake_delete_orphaned_files(${lake}, older_than => ${olderThan(settings.keepFiles)})`);
  const [[snapshots = 0] = []] = (await session.table(`SELECT count(*) FROM ${LAKE_CATALOG}.snapshots()`)).rows;
  const [[dataFiles = 0] = []] = (await session.table(`SELECT count(*) FROM __ducklake_metadata_${LAKE_CATALOG}.ducklake_data_file WHERE end_snapshot IS NULL`)).rows;
  return {
    filesMerged,
    filesCreated,
    filesRewritten,
    snapshotsExpired: expired.length,
    filesDeleted: deleted.length,
    orphansDeleted: orphans.length,
    snapshots: Number(snapshots),
    dataFiles: Number(dataFiles),
    ms: Date.now() - started,
  };
}

function sum(rows: Json[][], column: number): number {
  return rows.reduce<number>((total, row) => total + Number(row[column] ?? 0), 0);
}

/** One line for people: `merged 16 files into 1, expired 22 snapshots, deleted 21 files (1 snapshot, 1 data file left)`. */
export function describeUpkeep(r: LakeUpkeepReport): string {
  const done = [
    r.filesMerged > 0 ? `merged ${plural(r.filesMerged, 'file')} into ${r.filesCreated}` : null,
    r.filesRewritten > 0 ? `rewrote ${plural(r.filesRewritten, 'file')} with deleted rows` : null,
    r.snapshotsExpired > 0 ? `expired ${plural(r.snapshotsExpired, 'snapshot')}` : null,
    r.filesDeleted + r.orphansDeleted > 0 ? `deleted ${plural(r.filesDeleted + r.orphansDeleted, 'unused file')}` : null,
  ].filter((s) => s !== null);
  const left = `${plural(r.snapshots, 'snapshot')}, ${plural(r.dataFiles, 'data file')} in use`;
  return `${done.length === 0 ? 'nothing to do' : done.join(', ')} (${left}; ${(r.ms / 1000).toFixed(1)} s)`;
}

function plural(n: number, what: string): string {
  return `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;
}
