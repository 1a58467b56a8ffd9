import { readStoredCheckpoint } from '../destinations/duckdb/duckdb-checkpoint.js';
import { jsonText, tableRef } from '../destinations/duckdb/duckdb-sql.js';
import { internalSchema, TableRegistry, type TableMapping } from '../destinations/duckdb/duckdb-tables.js';
import type { Checkpoint } from '../model/checkpoint.js';
import type { CopyReader } from './copy-reader.js';
import type { DuckTable } from './table-plan.js';

/** What the copy (a DuckDB file or a lake, same `_ducktail` tables) says about a pipeline: the mode it registered and where it writes each table. */
export interface DuckPipeline {
  /** `merge` / `append`, or null when the pipeline never registered in this file. */
  mode: string | null;
  mappings: TableMapping[];
}

/** Reads the pipeline's registration and table mappings; null when the copy holds no Ducktail state. */
export function readDuckPipeline(reader: CopyReader, pipeline: string): Promise<DuckPipeline | null> {
  return reader.withRunner(async (db) => {
    const found = await db.rows(
      `SELECT count(*)::INT AS n FROM duckdb_tables() WHERE database_name = current_database()
         AND schema_name = '_ducktail' AND table_name IN ('tables', 'pipelines')`,
    );
    if (found[0]?.n !== 2) return null;
    const modes = await db.rows(`SELECT mode FROM ${internalSchema(db)}.pipelines WHERE pipeline = $1`, [pipeline]);
    const mode = modes[0]?.mode;
    return { mode: typeof mode === 'string' ? mode : null, mappings: (await TableRegistry.load(db)).ofPipeline(pipeline) };
  });
}

/** The DuckDB table a mapping names, with its columns now; null when it does not exist. */
export function readDuckTable(reader: CopyReader, mapping: TableMapping): Promise<DuckTable | null> {
  return reader.withRunner(async (db) => {
    const rows = await db.rows(
      `SELECT column_name, data_type FROM duckdb_columns()
        WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2 ORDER BY column_index`,
      [mapping.duckSchema, mapping.duckTable],
    );
    if (rows.length === 0) return null;
    return {
      mapping,
      from: tableRef(db.catalog, mapping.duckSchema, mapping.duckTable),
      columns: rows.map((r) => ({ name: jsonText(r.column_name) ?? '', type: jsonText(r.data_type) ?? '' })),
    };
  });
}

/** The pipeline's loaded checkpoint (null before its first load). */
export function readDuckCheckpoint(reader: CopyReader, pipeline: string): Promise<Checkpoint | null> {
  return reader.withRunner((db) => readStoredCheckpoint(db, pipeline));
}
