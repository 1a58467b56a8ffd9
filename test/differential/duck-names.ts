import type { DuckCopy, DuckTable } from './duck-file.js';

/**
 * Where a source table and its columns live in DuckDB. DuckDB identifiers are case-insensitive,
 * so names that differ only in case at the source must map to distinct DuckDB names; Ducktail
 * records its mapping in `_ducktail.tables` (pipeline, source_table as `schema.name` spelled by the
 * source, duck_schema, duck_table, columns: JSON `[{source, duck}]`). Without that table the
 * mapping is the identity. Every lookup goes through `resolveDuckTable`.
 */
export interface MappedTable {
  table: DuckTable;
  /**
   * The DuckDB column of a source column: from the mapping (undefined when it lists no such
   * source column), or the name itself without one.
   */
  column(source: string): string | undefined;
  /**
   * True when the names came from `_ducktail.tables`: they are then matched exactly (distinct
   * names are the point of the mapping); the identity fallback matches case-insensitively, as a
   * user's query would.
   */
  mapped: boolean;
}

export async function resolveDuckTable(file: DuckCopy, pipeline: string, sourceSchema: string, sourceTable: string): Promise<MappedTable | null> {
  if (!(await file.hasTable('_ducktail', 'tables'))) {
    const table = await file.table(sourceSchema, sourceTable);
    return table === null ? null : { table, column: (c) => c, mapped: false };
  }
  const literal = (v: string): string => `'${v.replaceAll("'", "''")}'`;
  const rows = await file.rows(
    `SELECT duck_schema, duck_table, CAST(columns AS VARCHAR) FROM _ducktail.tables
      WHERE pipeline = ${literal(pipeline)} AND source_table = ${literal(`${sourceSchema}.${sourceTable}`)}`,
  );
  const row = rows[0];
  if (row === undefined) return null;
  const table = await file.table(String(row[0]), String(row[1]));
  if (table === null) return null;
  const pairs = JSON.parse((row[2] as string | null) ?? '[]') as { source: string; duck: string }[];
  const byName = new Map(pairs.map((p) => [p.source, p.duck]));
  return { table, column: (c) => byName.get(c), mapped: true };
}
