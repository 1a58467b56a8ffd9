import type { BatchManifest } from '../../model/batch.js';
import type { Checkpoint } from '../../model/checkpoint.js';
import type { SqlRunner } from './duckdb-connection.js';
import { quoteIdent } from './duckdb-sql.js';

/**
 * Internal state under the `_ducktail` schema: one checkpoint row per pipeline and a log of the
 * batches applied. No keys or indexes, like every table here: DuckDB cannot alter indexed tables,
 * and all writes go through this one serialised connection.
 */
const internalDdl = (schema: string): string[] => [
  `CREATE SCHEMA IF NOT EXISTS ${schema}`,
  `CREATE TABLE IF NOT EXISTS ${schema}.checkpoints (
     pipeline VARCHAR NOT NULL, checkpoint JSON NOT NULL, batch_id VARCHAR NOT NULL, updated_at TIMESTAMPTZ NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${schema}.batches (
     pipeline VARCHAR NOT NULL, batch_id VARCHAR NOT NULL, events BIGINT NOT NULL, bytes BIGINT NOT NULL,
     counts JSON NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`,
];

/** `"catalog"._ducktail`: qualified, in case the file itself is named `_ducktail`. */
function internal(db: SqlRunner): string {
  return `${quoteIdent(db.catalog)}._ducktail`;
}

export async function ensureInternalTables(db: SqlRunner): Promise<void> {
  for (const ddl of internalDdl(internal(db))) await db.run(ddl);
}

async function internalTablesExist(db: SqlRunner): Promise<boolean> {
  const rows = await db.rows(
    `SELECT 1 FROM duckdb_tables() WHERE database_name = current_database()
       AND schema_name = '_ducktail' AND table_name = 'checkpoints'`,
  );
  return rows.length > 0;
}

/** The stored checkpoint, or null (also when `_ducktail` does not exist yet). */
export async function readStoredCheckpoint(db: SqlRunner, pipeline: string): Promise<Checkpoint | null> {
  if (!(await internalTablesExist(db))) return null;
  const rows = await db.rows(
    `SELECT CAST(checkpoint AS VARCHAR) AS checkpoint FROM ${internal(db)}.checkpoints WHERE pipeline = $1`,
    [pipeline],
  );
  if (rows.length > 1) throw new Error(`_ducktail.checkpoints holds ${rows.length} rows for pipeline ${pipeline}`);
  const text = rows[0]?.checkpoint;
  return typeof text === 'string' ? (JSON.parse(text) as Checkpoint) : null;
}

export async function writeCheckpoint(db: SqlRunner, pipeline: string, checkpoint: Checkpoint): Promise<void> {
  await db.run(`DELETE FROM ${internal(db)}.checkpoints WHERE pipeline = $1`, [pipeline]);
  await db.run(`INSERT INTO ${internal(db)}.checkpoints VALUES ($1, $2, $3, now())`, [
    pipeline,
    JSON.stringify(checkpoint),
    checkpoint.batchId,
  ]);
}

export async function logBatch(db: SqlRunner, manifest: BatchManifest): Promise<void> {
  await db.run(`INSERT INTO ${internal(db)}.batches VALUES ($1, $2, $3, $4, $5, now())`, [
    manifest.pipeline,
    manifest.batchId,
    manifest.events,
    manifest.bytes,
    JSON.stringify(manifest.counts),
  ]);
}

/** Removes a pipeline's checkpoint and batch log; its data tables are kept. */
export async function forgetStoredPipeline(db: SqlRunner, pipeline: string): Promise<void> {
  if (!(await internalTablesExist(db))) return;
  await db.run(`DELETE FROM ${internal(db)}.checkpoints WHERE pipeline = $1`, [pipeline]);
  await db.run(`DELETE FROM ${internal(db)}.batches WHERE pipeline = $1`, [pipeline]);
}
