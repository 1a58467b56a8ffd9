import { splitTableName, type TableSchema } from '../../model/table-schema.js';
import type { SqlRunner } from './duckdb-connection.js';
import { quoteIdent, quoteLiteral, tableRef } from './duckdb-sql.js';
import { decideTypeChange } from './duckdb-types.js';

/** How rows reach a table: one row per key, or one row per change. */
export type WriteStyle = 'merge' | 'append';

const TIMESTAMPTZ = 'TIMESTAMP WITH TIME ZONE';

/** Bookkeeping columns after the source columns, by write style. */
export const META_COLUMNS: Record<WriteStyle, [string, string][]> = {
  merge: [['__deleted', 'BOOLEAN'], ['__op', 'VARCHAR'], ['__position', 'VARCHAR'], ['__commit_ts', TIMESTAMPTZ]],
  append: [['__op', 'VARCHAR'], ['__position', 'VARCHAR'], ['__commit_ts', TIMESTAMPTZ], ['__seq', 'BIGINT']],
};

const META_NAMES = new Set(Object.values(META_COLUMNS).flatMap((cols) => cols.map(([n]) => n)));

/** A destination table after evolution: its column types by source column name (canonical DuckDB names). */
export interface EvolvedTable {
  /** Canonical type of each source column as the segment's schema declares it. */
  sourceTypes: Map<string, string>;
  /** Type of each source column in the destination table (differs after a VARCHAR fallback or a kept wider type). */
  targetTypes: Map<string, string>;
  /** Human-readable changes made, e.g. `new column shop.orders.note VARCHAR`. */
  notes: string[];
  /** Columns the destination keeps but the source no longer has: written NULL from now on. */
  dropped: string[];
}

/**
 * Makes the destination table fit a segment's schema before its rows are written: creates the
 * schema and table, adds new columns (existing rows read NULL), widens changed types or falls
 * back to VARCHAR, and keeps columns the source dropped. Nothing loaded is lost. Runs inside
 * the load's transaction, so a failed batch also undoes its DDL.
 */
export class SchemaEvolver {
  /** Declared type text → DuckDB's canonical name, e.g. `REAL` → `FLOAT`. */
  private readonly canonical = new Map<string, string>();

  async evolve(db: SqlRunner, schema: TableSchema, style: WriteStyle): Promise<EvolvedTable> {
    const reserved = schema.columns.find((c) => META_NAMES.has(c.name.toLowerCase()));
    if (reserved !== undefined) {
      throw new Error(`${schema.table}: source column ${reserved.name} clashes with a ducktail bookkeeping column`);
    }
    const sourceTypes = await this.canonicalTypes(db, schema);
    const existing = await readColumns(db, schema.table);
    const ref = tableRef(db.catalog, schema.table);
    const notes: string[] = [];
    if (existing.size === 0) {
      const columns = [...sourceTypes, ...META_COLUMNS[style]].map(([n, t]) => `${quoteIdent(n)} ${t}`);
      await db.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(db.catalog)}.${quoteIdent(splitTableName(schema.table).schema)}`);
      // No PRIMARY KEY: DuckDB cannot ALTER a table with an index; keys are kept unique by the merge.
      await db.run(`CREATE TABLE ${ref} (${columns.join(', ')})`);
      notes.push(`new table ${schema.table}`);
      return { sourceTypes, targetTypes: new Map(sourceTypes), notes, dropped: [] };
    }
    const targetTypes = new Map<string, string>();
    for (const [name, type] of [...sourceTypes, ...META_COLUMNS[style]]) {
      const current = existing.get(name.toLowerCase());
      if (current === undefined) {
        await db.run(`ALTER TABLE ${ref} ADD COLUMN ${quoteIdent(name)} ${type}`);
        notes.push(`new column ${schema.table}.${name} ${type}`);
        targetTypes.set(name, type);
        continue;
      }
      if (!sourceTypes.has(name)) continue;
      const change = decideTypeChange(current.type, type);
      if (change.action === 'alter') {
        await db.run(`ALTER TABLE ${ref} ALTER COLUMN ${quoteIdent(current.name)} TYPE ${change.to}`);
        notes.push(`column ${schema.table}.${name} type ${current.type} -> ${change.to}`);
      }
      targetTypes.set(name, change.action === 'alter' ? change.to : current.type);
    }
    const wanted = new Set([...sourceTypes.keys(), ...META_NAMES].map((n) => n.toLowerCase()));
    const dropped = [...existing.entries()].filter(([lower]) => !wanted.has(lower)).map(([, c]) => c.name);
    return { sourceTypes, targetTypes, notes, dropped };
  }

  private async canonicalTypes(db: SqlRunner, schema: TableSchema): Promise<Map<string, string>> {
    const unknown = [...new Set(schema.columns.map((c) => c.duckType))].filter((t) => !this.canonical.has(t));
    if (unknown.length > 0) {
      const select = unknown.map((t, i) => `typeof(CAST(NULL AS ${t})) AS t${i}`).join(', ');
      const [row] = await db.rows(`SELECT ${select}`);
      unknown.forEach((t, i) => this.canonical.set(t, text(row?.[`t${i}`])));
    }
    return new Map(schema.columns.map((c) => [c.name, this.canonical.get(c.duckType) ?? c.duckType]));
  }
}

/** The table's columns by lower-cased name (DuckDB matches identifiers case-insensitively); empty when it does not exist. */
async function readColumns(db: SqlRunner, table: string): Promise<Map<string, { name: string; type: string }>> {
  const { schema, name } = splitTableName(table);
  const rows = await db.rows(
    `SELECT column_name, data_type FROM duckdb_columns()
      WHERE database_name = current_database() AND lower(schema_name) = lower(${quoteLiteral(schema)})
        AND lower(table_name) = lower(${quoteLiteral(name)})
      ORDER BY column_index`,
  );
  return new Map(rows.map((r) => [text(r.column_name).toLowerCase(), { name: text(r.column_name), type: text(r.data_type) }]));
}

function text(value: unknown): string {
  if (typeof value !== 'string') throw new Error(`expected text from DuckDB's catalog, got ${JSON.stringify(value)}`);
  return value;
}
