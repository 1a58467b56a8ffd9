import type { BackfillBeginSegment, BackfillEndSegment } from '../../model/batch.js';
import type { SqlRunner } from './duckdb-connection.js';
import { columnValue, duckColumn, keyIndexes, type SegmentPlan } from './duckdb-plan.js';
import { quoteIdent, tableRef } from './duckdb-sql.js';
import { internalSchema, type TableMapping } from './duckdb-tables.js';

/**
 * MERGE side of an incremental copy (see src/sources/backfill.ts): the keys of the table's live
 * rows that no change or copied row has touched since the copy began are kept in
 * `_ducktail."unseen <pipeline> <schema>.<table>"`; at the copy's end the rows still unseen no
 * longer exist at the source and end deleted.
 */
export class UnseenKeys {
  private constructor(private readonly tables: Set<string>) {}

  /** The unseen-key tables of the file, read once per load. */
  static async load(db: SqlRunner): Promise<UnseenKeys> {
    const rows = await db.rows(
      `SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = '_ducktail' AND starts_with(table_name, 'unseen ')`,
    );
    return new UnseenKeys(new Set(rows.map((r) => (typeof r.table_name === 'string' ? r.table_name : ''))));
  }

  /** The copy of `mapping`'s table begins: its live keys are unseen. Replaces an earlier, unfinished copy's. */
  async begin(db: SqlRunner, mapping: TableMapping, segment: BackfillBeginSegment): Promise<void> {
    if (mapping.style !== 'merge') return;
    const ref = tableRef(db.catalog, mapping.duckSchema, mapping.duckTable);
    const keys = keyColumns(mapping, segment.key);
    if (keys.length === 0) throw new Error(`${segment.table}: the key columns ${segment.key.join(', ')} are not in the DuckDB table`);
    const name = unseenName(mapping);
    await db.run(`CREATE OR REPLACE TABLE ${internalSchema(db)}.${quoteIdent(name)} AS SELECT ${keys.map(quoteIdent).join(', ')} FROM ${ref} WHERE "__deleted" IS NOT TRUE`);
    this.tables.add(name);
  }

  /** After a segment of rows was merged: its keys are seen. */
  async seen(db: SqlRunner, mapping: TableMapping, plan: SegmentPlan): Promise<void> {
    const name = unseenName(mapping);
    if (!this.tables.has(name)) return;
    const keys = keyIndexes(plan.schema);
    const staged = keys.map((i) => `${columnValue(plan, i)} AS ${duckColumn(plan, i)}`).join(', ');
    const match = keys.map((i) => `u.${duckColumn(plan, i)} = s.${duckColumn(plan, i)}`).join(' AND ');
    await db.run(`DELETE FROM ${internalSchema(db)}.${quoteIdent(name)} AS u USING (SELECT DISTINCT ${staged} FROM ${plan.stage}) AS s WHERE ${match}`);
  }

  /** The copy is complete: rows still unseen end deleted at the copy's end. Returns how many. */
  async end(db: SqlRunner, mapping: TableMapping, segment: BackfillEndSegment): Promise<number> {
    const name = unseenName(mapping);
    if (!this.tables.has(name)) return 0;
    const unseen = `${internalSchema(db)}.${quoteIdent(name)}`;
    const ref = tableRef(db.catalog, mapping.duckSchema, mapping.duckTable);
    const keys = keyColumns(mapping, segment.key);
    if (keys.length === 0) throw new Error(`${segment.table}: the key columns ${segment.key.join(', ')} are not in the DuckDB table`);
    const match = keys.map((k) => `t.${quoteIdent(k)} = u.${quoteIdent(k)}`).join(' AND ');
    const [row] = await db.rows(
      `SELECT count(*) AS n FROM ${ref} AS t WHERE "__deleted" IS NOT TRUE AND EXISTS (SELECT 1 FROM ${unseen} AS u WHERE ${match})`,
    );
    const n = Number(row?.n ?? 0);
    if (n > 0) {
      await db.run(
        `UPDATE ${ref} AS t SET "__deleted" = true, "__op" = 'delete', "__position" = $1, "__commit_ts" = CAST($2 AS TIMESTAMPTZ)
           FROM ${unseen} AS u WHERE ${match} AND t."__deleted" IS NOT TRUE`,
        [segment.position, segment.commitTs],
      );
    }
    await db.run(`DROP TABLE ${unseen}`);
    this.tables.delete(name);
    return n;
  }
}

function unseenName(mapping: TableMapping): string {
  return `unseen ${mapping.pipeline} ${mapping.duckSchema}.${mapping.duckTable}`;
}

/** The DuckDB columns of the source key columns `key` (empty when one is unknown). */
function keyColumns(mapping: TableMapping, key: string[]): string[] {
  const cols = key.map((k) => mapping.columns.find((c) => c.live && c.source === k)?.duck);
  return cols.every((c): c is string => c !== undefined) ? cols : [];
}
