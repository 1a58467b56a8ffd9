import { DestinationConflictError } from '../../errors.js';
import { splitTableName, type ColumnSchema, type TableSchema } from '../../model/table-schema.js';
import type { SqlRunner } from './duckdb-connection.js';
import { freeName, nameKey } from './duckdb-names.js';
import { duckdbColumnDdl, type ColumnDdl } from './duckdb-ddl.js';
import { quoteIdent, quoteLiteral, tableRef } from './duckdb-sql.js';
import type { ColumnMapping, TableMapping, TableRegistry, WriteStyle } from './duckdb-tables.js';
import { decideTypeChange } from './duckdb-types.js';

export type { WriteStyle } from './duckdb-tables.js';

const TIMESTAMPTZ = 'TIMESTAMP WITH TIME ZONE';

/** Bookkeeping columns after the source columns, by write style. */
export const META_COLUMNS: Record<WriteStyle, [string, string][]> = {
  merge: [['__deleted', 'BOOLEAN'], ['__op', 'VARCHAR'], ['__position', 'VARCHAR'], ['__commit_ts', TIMESTAMPTZ]],
  append: [['__op', 'VARCHAR'], ['__position', 'VARCHAR'], ['__commit_ts', TIMESTAMPTZ], ['__seq', 'BIGINT']],
};

/** Bookkeeping names are never given to source columns (a source `__op` becomes `__op_2`). */
const META_KEYS = new Set(Object.values(META_COLUMNS).flatMap((cols) => cols.map(([n]) => nameKey(n))));

/** Where one column of a segment's schema lands. */
export interface EvolvedColumn {
  /** The DuckDB column. */
  duck: string;
  /** DuckDB's canonical spelling of the type the segment's schema declares. */
  sourceType: string;
  /** The DuckDB column's type (differs after a VARCHAR fallback or a kept wider type). */
  targetType: string;
}

/** A destination table made to fit one segment's schema. */
export interface EvolvedTable {
  /** `"catalog"."schema"."table"` of the DuckDB table. */
  ref: string;
  /** One entry per column of the segment's schema, in its order. */
  columns: EvolvedColumn[];
  /** DuckDB columns the source no longer has: written NULL from now on. */
  dropped: string[];
  /** Human-readable changes made, e.g. `new column shop.orders.note VARCHAR`. */
  notes: string[];
  /** Why the table must be re-synced, or null. */
  resync: string | null;
}

/**
 * Makes destination tables fit the schemas a batch declares, before any row of that table is
 * written in the batch's transaction (DuckDB cannot commit DDL of a table after DML of it in one
 * transaction; capture ends a batch before a schema change of a table the batch already wrote).
 *
 * - A new source table gets a DuckDB table named by the rule in duckdb-names.ts; an existing
 *   Ducktail table of that name that no pipeline owns is taken over (a file from before the
 *   mappings existed, or after `teardown`).
 * - New columns are added; rows already loaded read what they read at the source (the column's
 *   `backfill`, e.g. PostgreSQL's missing value of `ADD COLUMN … DEFAULT 7`), or NULL.
 * - Renamed columns (same source id, or a rename the source reported) are renamed in place.
 * - Changed types are widened, or fall back to VARCHAR; a column the source drops is kept (NULL
 *   from then on); one it adds again starts over with the backfill value.
 * Mappings are kept in the registry, which the load writes in the same transaction.
 */
export class SchemaEvolver {
  /** Declared type text → DuckDB's canonical name, e.g. `REAL` → `FLOAT`. */
  private readonly canonical = new Map<string, string>();

  /** `ddl`: how columns are added and retyped where the tables live (a DuckDB file by default). */
  constructor(private readonly ddl: ColumnDdl = duckdbColumnDdl) {}

  /** `beforeDdl` runs before the table's schema is changed (it may refuse: see the load's rule). */
  async evolve(
    db: SqlRunner,
    registry: TableRegistry,
    pipeline: string,
    schema: TableSchema,
    style: WriteStyle,
    beforeDdl: () => void = () => undefined,
  ): Promise<EvolvedTable> {
    const types = await this.canonicalTypes(db, schema);
    const notes: string[] = [];
    let mapping = registry.get(pipeline, schema.table);
    let existing = mapping === undefined ? [] : await readColumns(db, mapping.duckSchema, mapping.duckTable);
    if (mapping === undefined || existing.length === 0) {
      beforeDdl();
      mapping = await this.place(db, registry, pipeline, schema, style, types, notes);
      existing = await readColumns(db, mapping.duckSchema, mapping.duckTable);
    } else if (mapping.style !== style) {
      throw styleConflict(pipeline, refText(mapping), mapping.style, style);
    }
    const ref = tableRef(db.catalog, mapping.duckSchema, mapping.duckTable);
    const taken = new Set([...META_KEYS, ...existing.map((c) => nameKey(c.name)), ...mapping.columns.map((c) => nameKey(c.duck))]);
    const ddl: string[] = [];
    const idRenames = schema.columns
      .map((c) => ({ to: c.name, column: c.id === undefined ? undefined : mapping.columns.find((m) => m.live && m.id === c.id) }))
      .filter((r): r is { to: string; column: ColumnMapping } => r.column !== undefined && r.column.source !== r.to);
    for (const r of idRenames) r.column.source = r.to;
    for (const r of idRenames) renameInPlace(mapping, r.column, ref, taken, ddl, notes);

    const unknownBackfill: string[] = [];
    const columns = schema.columns.map((c, i): EvolvedColumn => {
      const type = types[i] ?? c.duckType;
      const m = this.fitColumn(mapping, c, type, ref, taken, ddl, notes, unknownBackfill);
      return { duck: m.duck, sourceType: type, targetType: m.type };
    });
    for (const m of mapping.columns) {
      if (m.live && !schema.columns.some((c) => c.name === m.source)) {
        m.live = false;
        notes.push(`column ${schema.table}.${m.source} dropped at the source (kept, NULL from now on)`);
      }
    }
    if (ddl.length > 0) beforeDdl();
    for (const statement of ddl) await db.run(statement);
    if (unknownBackfill.length > 0 && mapping.resync === null && (await hasRows(db, ref))) {
      mapping.resync =
        `column(s) ${unknownBackfill.join(', ')} of ${schema.table} were added at the source with values Ducktail cannot read ` +
        '(a volatile default or a table rewrite, or the column changed again before its definition could be read): ' +
        'rows that existed before may differ; to copy the table afresh: ' +
        `ducktail stop, ducktail teardown ${pipeline}, then start again`;
    }
    if (ddl.length > 0 || notes.length > 0) registry.touch(mapping);
    return {
      ref,
      columns,
      dropped: mapping.columns.filter((m) => !m.live).map((m) => m.duck),
      notes,
      resync: mapping.resync,
    };
  }

  /** Applies renames the source reported; a rename whose old name is unknown (already applied) changes nothing. */
  async rename(db: SqlRunner, registry: TableRegistry, pipeline: string, table: string, renames: { from: string; to: string }[]): Promise<string[]> {
    const mapping = registry.get(pipeline, table);
    if (mapping === undefined) return [];
    const existing = await readColumns(db, mapping.duckSchema, mapping.duckTable);
    if (existing.length === 0) return [];
    const ref = tableRef(db.catalog, mapping.duckSchema, mapping.duckTable);
    const taken = new Set([...META_KEYS, ...existing.map((c) => nameKey(c.name)), ...mapping.columns.map((c) => nameKey(c.duck))]);
    const ddl: string[] = [];
    const notes: string[] = [];
    for (const { from, to } of renames) {
      const column = findRenamed(mapping, from);
      if (column === undefined || from === to || mapping.columns.some((m) => m.live && m.source === to)) continue;
      column.source = to;
      renameInPlace(mapping, column, ref, taken, ddl, notes);
    }
    for (const statement of ddl) await db.run(statement);
    if (notes.length > 0) registry.touch(mapping);
    return notes;
  }

  /** The DuckDB table and write style of a source table the pipeline already loaded, or undefined. */
  async existing(db: SqlRunner, registry: TableRegistry, pipeline: string, table: string): Promise<{ ref: string; style: WriteStyle } | undefined> {
    const mapping = registry.get(pipeline, table);
    if (mapping === undefined || (await readColumns(db, mapping.duckSchema, mapping.duckTable)).length === 0) return undefined;
    return { ref: tableRef(db.catalog, mapping.duckSchema, mapping.duckTable), style: mapping.style };
  }

  /** Deletes the rows an interrupted snapshot copied into the table (see `DiscardSegment`). */
  async discardSnapshot(db: SqlRunner, registry: TableRegistry, pipeline: string, table: string, position: string): Promise<void> {
    const mapping = registry.get(pipeline, table);
    if (mapping === undefined || (await readColumns(db, mapping.duckSchema, mapping.duckTable)).length === 0) return;
    const ref = tableRef(db.catalog, mapping.duckSchema, mapping.duckTable);
    await db.run(`DELETE FROM ${ref} WHERE "__op" = 'snapshot' AND "__position" = $1`, [position]);
  }

  /** The mapping of one source column, adding, restarting or retyping the DuckDB column as needed. */
  private fitColumn(
    mapping: TableMapping,
    c: ColumnSchema,
    type: string,
    ref: string,
    taken: Set<string>,
    ddl: string[],
    notes: string[],
    unknownBackfill: string[],
  ): ColumnMapping {
    const live = mapping.columns.find((m) => m.live && m.source === c.name);
    if (live !== undefined) {
      const change = decideTypeChange(live.type, type);
      if (change.action === 'alter') {
        ddl.push(...this.ddl.retype(ref, live.duck, live.type, change.to));
        notes.push(`column ${mapping.sourceTable}.${c.name} type ${live.type} -> ${change.to}`);
        live.type = change.to;
      }
      // An id, once known, stays: a later shape read from a catalog that moved on may claim another.
      if (live.id === undefined && c.id !== undefined) live.id = c.id;
      return live;
    }
    // New, or dropped earlier and added again: either way every existing row reads the backfill now.
    const again = mapping.columns.find((m) => !m.live && m.source === c.name);
    if (again !== undefined) ddl.push(`ALTER TABLE ${ref} DROP COLUMN ${quoteIdent(again.duck)}`);
    const duck = again?.duck ?? freeName(c.name, taken);
    taken.add(nameKey(duck));
    ddl.push(...this.ddl.addColumn({ ref, duck, type, column: c }));
    if (c.backfillUnknown === true) unknownBackfill.push(c.name);
    notes.push(`${again === undefined ? 'new' : 'added again:'} column ${mapping.sourceTable}.${c.name} ${type}${duck === c.name ? '' : ` as ${duck}`}`);
    const m: ColumnMapping = { source: c.name, duck, type, live: true, ...(c.id === undefined ? {} : { id: c.id }) };
    if (again !== undefined) mapping.columns.splice(mapping.columns.indexOf(again), 1);
    mapping.columns.push(m);
    return m;
  }

  /** A mapping for a source table the pipeline has not written yet: creates the DuckDB table, or takes over an unowned one. */
  private async place(
    db: SqlRunner,
    registry: TableRegistry,
    pipeline: string,
    schema: TableSchema,
    style: WriteStyle,
    types: string[],
    notes: string[],
  ): Promise<TableMapping> {
    const { schema: duckSchema, name } = splitTableName(schema.table);
    const rival = registry.all().find((m) => m.pipeline !== pipeline && m.sourceTable === schema.table && nameKey(m.duckSchema) === nameKey(duckSchema));
    if (rival !== undefined) throw ownedElsewhere(schema.table, `${rival.duckSchema}.${rival.duckTable}`, rival.pipeline, pipeline);
    const tables = await readTables(db, duckSchema);
    if (tables.includes(name)) {
      const owner = registry.ownerOf(duckSchema, name);
      if (owner === undefined) return adopt(db, registry, pipeline, schema, style, notes);
      if (owner.pipeline !== pipeline) throw ownedElsewhere(owner.sourceTable, `${duckSchema}.${name}`, owner.pipeline, pipeline);
      // Owned by this pipeline for a source table whose name differs only in case: a new name below.
    }
    const takenTables = new Set([...tables, ...registry.ofPipeline(pipeline).filter((m) => nameKey(m.duckSchema) === nameKey(duckSchema)).map((m) => m.duckTable)].map(nameKey));
    const duckTable = freeName(name, takenTables);
    const taken = new Set(META_KEYS);
    const columns = schema.columns.map((c, i): ColumnMapping => {
      const duck = freeName(c.name, taken);
      taken.add(nameKey(duck));
      return { source: c.name, duck, type: types[i] ?? c.duckType, live: true, ...(c.id === undefined ? {} : { id: c.id }) };
    });
    const defs = [...columns.map((c) => [c.duck, c.type]), ...META_COLUMNS[style]].map(([n, t]) => `${quoteIdent(n ?? '')} ${t}`);
    await db.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(db.catalog)}.${quoteIdent(duckSchema)}`);
    // No PRIMARY KEY: DuckDB cannot ALTER a table with an index; keys are kept unique by the merge.
    await db.run(`CREATE TABLE ${tableRef(db.catalog, duckSchema, duckTable)} (${defs.join(', ')})`);
    const renamed = [...(duckTable === name ? [] : [`table as ${duckTable}`]), ...columns.filter((c) => c.duck !== c.source).map((c) => `${c.source} as ${c.duck}`)];
    notes.push(`new table ${schema.table}${renamed.length === 0 ? '' : ` (DuckDB names: ${renamed.join(', ')})`}`);
    const mapping: TableMapping = { pipeline, sourceTable: schema.table, duckSchema, duckTable, style, columns, resync: null };
    registry.put(mapping);
    return mapping;
  }

  private async canonicalTypes(db: SqlRunner, schema: TableSchema): Promise<string[]> {
    const unknown = [...new Set(schema.columns.map((c) => c.duckType))].filter((t) => !this.canonical.has(t));
    if (unknown.length > 0) {
      const select = unknown.map((t, i) => `typeof(CAST(NULL AS ${t})) AS t${i}`).join(', ');
      const [row] = await db.rows(`SELECT ${select}`);
      unknown.forEach((t, i) => this.canonical.set(t, text(row?.[`t${i}`])));
    }
    return schema.columns.map((c) => this.canonical.get(c.duckType) ?? c.duckType);
  }
}

/**
 * The live column a reported rename names. MySQL matches column names without regard to case, so
 * a DDL may spell it differently from the row events: an exact match first, else the only
 * case-insensitive one.
 */
function findRenamed(mapping: TableMapping, from: string): ColumnMapping | undefined {
  const live = mapping.columns.filter((m) => m.live);
  const exact = live.find((m) => m.source === from);
  if (exact !== undefined) return exact;
  const folded = live.filter((m) => m.source.toLowerCase() === from.toLowerCase());
  return folded.length === 1 ? folded[0] : undefined;
}

/** Renames a column's DuckDB column after its source name changed, when the new name is free. */
function renameInPlace(mapping: TableMapping, column: ColumnMapping, ref: string, taken: Set<string>, ddl: string[], notes: string[]): void {
  const from = column.duck;
  let to = from;
  if (nameKey(column.source) !== nameKey(from)) {
    taken.delete(nameKey(from));
    to = freeName(column.source, taken);
    taken.add(nameKey(to));
  }
  if (to !== from) ddl.push(`ALTER TABLE ${ref} RENAME COLUMN ${quoteIdent(from)} TO ${quoteIdent(to)}`);
  column.duck = to;
  notes.push(`column renamed at the source: ${mapping.sourceTable}.${column.source}${to === from ? '' : ` (DuckDB ${from} -> ${to})`}`);
}

/** Takes over an existing Ducktail table that no pipeline owns (matching columns by name as DuckDB does). */
async function adopt(db: SqlRunner, registry: TableRegistry, pipeline: string, schema: TableSchema, style: WriteStyle, notes: string[]): Promise<TableMapping> {
  const { schema: duckSchema, name } = splitTableName(schema.table);
  const existing = await readColumns(db, duckSchema, name);
  const has = (n: string): boolean => existing.some((c) => nameKey(c.name) === nameKey(n));
  const found: WriteStyle | null = META_COLUMNS.merge.every(([n]) => has(n)) ? 'merge' : META_COLUMNS.append.every(([n]) => has(n)) ? 'append' : null;
  const ref = `${duckSchema}.${name}`;
  if (found === null) {
    throw new DestinationConflictError(
      `DuckDB table ${ref} exists but was not made by Ducktail (it lacks the bookkeeping columns)`,
      'drop or rename that table, or give the pipeline another destination.path',
    );
  }
  if (found !== style) throw styleConflict(pipeline, ref, found, style);
  const columns: ColumnMapping[] = [];
  for (const c of existing) {
    if (META_KEYS.has(nameKey(c.name))) continue;
    const source = schema.columns.find((s) => nameKey(s.name) === nameKey(c.name) && !columns.some((m) => m.source === s.name));
    columns.push({ source: source?.name ?? c.name, duck: c.name, type: c.type, live: source !== undefined, ...(source?.id === undefined ? {} : { id: source.id }) });
  }
  notes.push(`existing table ${ref} taken over`);
  const mapping: TableMapping = { pipeline, sourceTable: schema.table, duckSchema, duckTable: name, style, columns, resync: null };
  registry.put(mapping);
  return mapping;
}

function ownedElsewhere(sourceTable: string, ref: string, owner: string, pipeline: string): DestinationConflictError {
  return new DestinationConflictError(
    `DuckDB table ${ref} holds ${sourceTable} for pipeline ${owner}; pipeline ${pipeline} cannot write it too`,
    'give one of the pipelines another destination.path (one DuckDB file per source database is the usual layout)',
  );
}

function styleConflict(pipeline: string, ref: string, found: WriteStyle, wanted: WriteStyle): DestinationConflictError {
  const what = (s: WriteStyle): string => (s === 'merge' ? 'merge rows (one per key)' : 'append rows (one per change)');
  return new DestinationConflictError(
    `DuckDB table ${ref} holds ${what(found)}, but pipeline ${pipeline} would now write ${what(wanted)} ` +
      '(the mode changed, or the table gained or lost its primary key)',
    `keep mode: ${found} for this file, or give the pipeline a new destination.path to load it afresh`,
  );
}

function refText(m: TableMapping): string {
  return `${m.duckSchema}.${m.duckTable}`;
}

/** Tables of a DuckDB schema (compared as DuckDB does), with their exact names. */
async function readTables(db: SqlRunner, schema: string): Promise<string[]> {
  const rows = await db.rows(
    `SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() AND lower(schema_name) = lower(${quoteLiteral(schema)})`,
  );
  return rows.filter((r) => nameKey(text(r.schema_name)) === nameKey(schema)).map((r) => text(r.table_name));
}

/** A table's columns in order, or none when it does not exist. */
async function readColumns(db: SqlRunner, schema: string, table: string): Promise<{ name: string; type: string }[]> {
  const rows = await db.rows(
    `SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns()
      WHERE database_name = current_database() AND lower(schema_name) = lower(${quoteLiteral(schema)})
        AND lower(table_name) = lower(${quoteLiteral(table)})
      ORDER BY column_index`,
  );
  return rows
    .filter((r) => nameKey(text(r.schema_name)) === nameKey(schema) && nameKey(text(r.table_name)) === nameKey(table))
    .map((r) => ({ name: text(r.column_name), type: text(r.data_type) }));
}

async function hasRows(db: SqlRunner, ref: string): Promise<boolean> {
  return (await db.rows(`SELECT 1 AS x FROM ${ref} LIMIT 1`)).length > 0;
}

function text(value: unknown): string {
  if (typeof value !== 'string') throw new Error(`expected text from DuckDB's catalog, got ${JSON.stringify(value)}`);
  return value;
}
