import type { TableSchema } from '../../model/table-schema.js';
import type { EvolvedTable } from './duckdb-schema.js';
import { decodeValue, quoteIdent, stagedValue } from './duckdb-sql.js';

/** Everything the SQL builders need to write one staged segment into its evolved table. */
export interface SegmentPlan {
  schema: TableSchema;
  table: EvolvedTable;
  /** Name of the temp table holding the segment's spool rows. */
  stage: string;
}

/** Indexes of the primary key columns in the segment's column order. */
export function keyIndexes(schema: TableSchema): number[] {
  return schema.primaryKey.map((name) => {
    const index = schema.columns.findIndex((c) => c.name === name);
    if (index < 0) throw new Error(`${schema.table}: primary key column ${name} is not among the columns`);
    return index;
  });
}

/** The quoted DuckDB column of the segment's column `index`. */
export function duckColumn(plan: SegmentPlan, index: number): string {
  const column = plan.table.columns[index];
  if (column === undefined) throw new Error(`${plan.schema.table}: no column ${index}`);
  return quoteIdent(column.duck);
}

/** SQL converting text `textExpr` to column `index`'s value in the destination table's type. */
export function columnValue(plan: SegmentPlan, index: number, textExpr = stagedValue(index)): string {
  const column = plan.schema.columns[index];
  const evolved = plan.table.columns[index];
  if (column === undefined || evolved === undefined) throw new Error(`${plan.schema.table}: no column ${index}`);
  return decodeValue(textExpr, column, evolved.sourceType, evolved.targetType);
}
