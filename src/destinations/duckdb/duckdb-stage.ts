import type { RowSegment } from '../../model/batch.js';
import type { SpoolField } from '../../staging/spool-format.js';
import { stagedSegment, type StagedSegment } from '../../staging/spool-reader.js';
import type { SqlRunner } from './duckdb-connection.js';
import { quoteLiteral } from './duckdb-sql.js';

/** The temp table a segment's spool rows are read into (connection-local, dropped after use). */
export const STAGE_TABLE = '__ducktail_stage';

/**
 * The JSON reader's smallest object limit. It sizes its buffers from `maximum_object_size` (per
 * thread), so the limit follows the segment's longest line instead of allowing any size: a
 * 512 MiB limit made every load reserve about 1 GiB.
 */
const MIN_OBJECT_BYTES = 16 * 1024 * 1024;

/** `read_json` spellings of the staging formats and field types. */
const JSON_FORMATS: Record<StagedSegment['format'], string> = { ndjson: 'newline_delimited' };
const DUCK_TYPES: Record<SpoolField['type'], string> = { int64: 'BIGINT', text: 'VARCHAR', 'int32[]': 'INTEGER[]', 'text[]': 'VARCHAR[]' };

/**
 * Reads a staged row segment into `STAGE_TABLE` with DuckDB's own JSON reader: values stay text
 * until the merge or append casts them, and no row passes through JavaScript.
 */
export async function stageSegment(db: SqlRunner, spoolDir: string, segment: RowSegment): Promise<void> {
  const staged = await stagedSegment(spoolDir, segment);
  const columns = `{${staged.fields.map((f) => `${f.name}: '${DUCK_TYPES[f.type]}'`).join(', ')}}`;
  await db.run(
    `CREATE OR REPLACE TEMP TABLE ${STAGE_TABLE} AS SELECT * FROM read_json([${staged.files.map(quoteLiteral).join(', ')}],
       format = '${JSON_FORMATS[staged.format]}', columns = ${columns}, maximum_object_size = ${Math.max(MIN_OBJECT_BYTES, staged.maxLineBytes + 1)})`,
  );
}

/** Column indexes that at least one staged row did not send. */
export async function unsentColumns(db: SqlRunner): Promise<Set<number>> {
  const rows = await db.rows(`SELECT DISTINCT unnest(u) AS i FROM ${STAGE_TABLE} WHERE u IS NOT NULL`);
  return new Set(rows.map((r) => Number(r.i)));
}

/** Facts about the staged segment that choose how it is applied. */
export async function stageStats(db: SqlRunner): Promise<{ keyMoves: number }> {
  const [row] = await db.rows(`SELECT count(*) FILTER (WHERE k IS NOT NULL) AS moves FROM ${STAGE_TABLE}`);
  return { keyMoves: Number(row?.moves ?? 0) };
}

export async function dropStage(db: SqlRunner): Promise<void> {
  await db.run(`DROP TABLE IF EXISTS ${STAGE_TABLE}`);
}
