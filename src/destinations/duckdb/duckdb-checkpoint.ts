import { ConfigError } from '../../errors.js';
import type { BatchManifest } from '../../model/batch.js';
import type { Checkpoint } from '../../model/checkpoint.js';
import type { WriteMode } from '../../model/pipeline-spec.js';
import type { SqlRunner } from './duckdb-connection.js';
import { jsonText } from './duckdb-sql.js';
import { internalSchema as internal, TABLES_DDL } from './duckdb-tables.js';

/**
 * Internal state under the `_ducktail` schema: one checkpoint row per pipeline, a log of the
 * batches applied, each pipeline's write mode, and where each pipeline writes each source table
 * (`tables`, see duckdb-tables.ts). No keys or indexes, like every table here: DuckDB cannot alter indexed tables,
 * and all writes go through this one serialised connection.
 */
const internalDdl = (schema: string): string[] => [
  `CREATE SCHEMA IF NOT EXISTS ${schema}`,
  `CREATE TABLE IF NOT EXISTS ${schema}.checkpoints (
     pipeline VARCHAR NOT NULL, checkpoint JSON NOT NULL, batch_id VARCHAR NOT NULL, updated_at TIMESTAMPTZ NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${schema}.batches (
     pipeline VARCHAR NOT NULL, batch_id VARCHAR NOT NULL, events BIGINT NOT NULL, bytes BIGINT NOT NULL,
     counts JSON NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${schema}.pipelines (pipeline VARCHAR NOT NULL, mode VARCHAR NOT NULL, registered_at TIMESTAMPTZ NOT NULL)`,
  TABLES_DDL(schema),
];

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

/**
 * Records the pipeline's write mode, or throws `ConfigError` when the file holds this pipeline in
 * the other mode: MERGE and APPEND rows cannot share a table.
 */
export async function registerMode(db: SqlRunner, pipeline: string, mode: WriteMode): Promise<void> {
  const rows = await db.rows(`SELECT mode FROM ${internal(db)}.pipelines WHERE pipeline = $1`, [pipeline]);
  const stored = rows[0]?.mode;
  if (stored === undefined) {
    await db.run(`INSERT INTO ${internal(db)}.pipelines VALUES ($1, $2, now())`, [pipeline, mode]);
    return;
  }
  if (stored !== mode) throw modeChangeError(pipeline, jsonText(stored) ?? '?', mode);
}

export function modeChangeError(pipeline: string, stored: string, wanted: string): ConfigError {
  return new ConfigError(
    `pipeline ${pipeline} has loaded this DuckDB file in ${stored} mode; it cannot continue in ${wanted} mode (the tables would mix both row styles)`,
    `keep mode: ${stored}, or give the pipeline a new destination.path (or a new name) to load it afresh in ${wanted} mode`,
  );
}

/**
 * Removes a pipeline's checkpoint, batch log and mode; its data tables are kept, and so is the
 * record of which tables it wrote (so a restarted pipeline finds them again under the same names).
 */
export async function forgetStoredPipeline(db: SqlRunner, pipeline: string): Promise<void> {
  if (!(await internalTablesExist(db))) return;
  await ensureInternalTables(db);
  await db.run(`DELETE FROM ${internal(db)}.checkpoints WHERE pipeline = $1`, [pipeline]);
  await db.run(`DELETE FROM ${internal(db)}.batches WHERE pipeline = $1`, [pipeline]);
  await db.run(`DELETE FROM ${internal(db)}.pipelines WHERE pipeline = $1`, [pipeline]);
  // Started again, the pipeline copies every table afresh.
  await db.run(`UPDATE ${internal(db)}.tables SET resync = NULL WHERE pipeline = $1`, [pipeline]);
}
