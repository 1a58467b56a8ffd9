import type { Json } from '@duckdb/node-api';
import type { SqlRunner } from './duckdb-connection.js';
import { nameKey } from './duckdb-names.js';
import { jsonText, quoteIdent } from './duckdb-sql.js';

/** How rows reach a table: one row per key, or one row per change. */
export type WriteStyle = 'merge' | 'append';

/** One source column and the DuckDB column holding it. */
export interface ColumnMapping {
  /** The source's name, exactly as the source spells it. */
  source: string;
  /** The DuckDB column (see duckdb-names.ts for the rule). */
  duck: string;
  /** The DuckDB column's type (DuckDB's canonical spelling). */
  type: string;
  /** False once the source dropped the column: the DuckDB column is kept and written NULL from then on. */
  live: boolean;
  /** The source's stable column id (PostgreSQL attnum), when it has one. */
  id?: number;
}

/**
 * Where one pipeline writes one source table. Stored in `_ducktail.tables` (one row per pipeline
 * and source table; `columns` is the JSON array of `ColumnMapping`), in the same transaction as
 * the rows it describes, so a name once given never changes.
 */
export interface TableMapping {
  pipeline: string;
  /** `schema.table` as the source spells it. */
  sourceTable: string;
  duckSchema: string;
  duckTable: string;
  style: WriteStyle;
  columns: ColumnMapping[];
  /** Why the table must be re-synced before it equals the source again, or null. */
  resync: string | null;
}

/** `"catalog"._ducktail`: qualified, in case the file itself is named `_ducktail`. */
export function internalSchema(db: SqlRunner): string {
  return `${quoteIdent(db.catalog)}._ducktail`;
}

export const TABLES_DDL = (schema: string): string =>
  `CREATE TABLE IF NOT EXISTS ${schema}.tables (
     pipeline VARCHAR NOT NULL, source_table VARCHAR NOT NULL, duck_schema VARCHAR NOT NULL, duck_table VARCHAR NOT NULL,
     style VARCHAR NOT NULL, columns JSON NOT NULL, resync VARCHAR, updated_at TIMESTAMPTZ NOT NULL)`;

/**
 * The table mappings of every pipeline writing the file, read at the start of a load's
 * transaction and written back (changed ones only) before it commits.
 */
export class TableRegistry {
  private readonly dirty = new Set<TableMapping>();

  private constructor(private readonly mappings: TableMapping[]) {}

  static async load(db: SqlRunner): Promise<TableRegistry> {
    const rows = await db.rows(
      `SELECT pipeline, source_table, duck_schema, duck_table, style, CAST(columns AS VARCHAR) AS columns, resync
         FROM ${internalSchema(db)}.tables`,
    );
    return new TableRegistry(rows.map(fromRow));
  }

  /** Where `pipeline` writes `sourceTable`, if it has written it before. */
  get(pipeline: string, sourceTable: string): TableMapping | undefined {
    return this.mappings.find((m) => m.pipeline === pipeline && m.sourceTable === sourceTable);
  }

  /** Every mapping of every pipeline. */
  all(): readonly TableMapping[] {
    return this.mappings;
  }

  /** Every mapping of `pipeline`. */
  ofPipeline(pipeline: string): TableMapping[] {
    return this.mappings.filter((m) => m.pipeline === pipeline);
  }

  /** The mapping (of any pipeline) that writes DuckDB table `duckSchema.duckTable`, compared as DuckDB does. */
  ownerOf(duckSchema: string, duckTable: string): TableMapping | undefined {
    return this.mappings.find((m) => nameKey(m.duckSchema) === nameKey(duckSchema) && nameKey(m.duckTable) === nameKey(duckTable));
  }

  /** Adds or replaces a mapping; it is written by `save`. */
  put(mapping: TableMapping): void {
    const at = this.mappings.findIndex((m) => m.pipeline === mapping.pipeline && m.sourceTable === mapping.sourceTable);
    if (at >= 0) this.mappings[at] = mapping;
    else this.mappings.push(mapping);
    this.dirty.add(mapping);
  }

  /** Marks a mapping changed in place. */
  touch(mapping: TableMapping): void {
    this.dirty.add(mapping);
  }

  /** Writes the mappings changed since `load`. */
  async save(db: SqlRunner): Promise<void> {
    for (const m of this.dirty) {
      await db.run(`DELETE FROM ${internalSchema(db)}.tables WHERE pipeline = $1 AND source_table = $2`, [m.pipeline, m.sourceTable]);
      await db.run(`INSERT INTO ${internalSchema(db)}.tables VALUES ($1, $2, $3, $4, $5, $6, $7, now())`, [
        m.pipeline,
        m.sourceTable,
        m.duckSchema,
        m.duckTable,
        m.style,
        JSON.stringify(m.columns),
        m.resync,
      ]);
    }
    this.dirty.clear();
  }
}

function fromRow(r: Record<string, Json>): TableMapping {
  const text = (v: Json | undefined): string => jsonText(v) ?? '';
  return {
    pipeline: text(r.pipeline),
    sourceTable: text(r.source_table),
    duckSchema: text(r.duck_schema),
    duckTable: text(r.duck_table),
    style: r.style === 'append' ? 'append' : 'merge',
    columns: JSON.parse(text(r.columns)) as ColumnMapping[],
    resync: typeof r.resync === 'string' ? r.resync : null,
  };
}
