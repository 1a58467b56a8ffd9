import type { TableMapEntry } from '@vlasky/zongji';
import type { TableSchema } from '../../model/table-schema.js';
import type { TableInfo } from './mysql-catalog.js';
import { mapTable, parseColumnType, refineColumn, type MappedTable } from './mysql-types.js';

/**
 * Table schemas while streaming. A row's columns come from its binlog TableMap (names and types
 * as they were when the row was written, thanks to binlog_row_metadata=FULL), refined by the
 * current information_schema definition where the binlog cannot tell (MariaDB UUID/INET/JSON).
 * The current definitions are cached per table and dropped when DDL on the table streams past.
 */
export class SchemaCache {
  private readonly current = new Map<string, TableInfo | null>();
  private readonly byKey = new Map<string, MappedTable>();
  private readonly byEntry = new WeakMap<TableMapEntry, { generation: number; mapped: MappedTable }>();
  private generation = 0;

  constructor(private readonly load: (tables: string[]) => Promise<Map<string, TableInfo>>) {}

  /** Records definitions already read (e.g. by preflight). */
  seed(tables: Iterable<TableInfo>): void {
    for (const t of tables) this.current.set(t.table, t);
  }

  /** The schema of a row read under `entry`, with the key columns the binlog reported. */
  async forRow(table: string, entry: TableMapEntry, primaryKey: string[]): Promise<MappedTable> {
    const hit = this.byEntry.get(entry);
    if (hit !== undefined && hit.generation === this.generation) return hit.mapped;
    const cols = entry.columnSchemas.map((c) => parseColumnType(c.COLUMN_NAME, c.COLUMN_TYPE, c.UNSIGNED));
    const key = `${table}\0${cols.map((c) => `${c.name}:${c.type}`).join(',')}\0${primaryKey.join(',')}`;
    let mapped = this.byKey.get(key);
    if (mapped === undefined) {
      const info = await this.info(table);
      const now = new Map((info?.columns ?? []).map((c) => [c.name, c]));
      // The table map omits the key when the table has none, and on servers that do not log it:
      // fall back to the current key when all its columns are in the event.
      const currentKey = info?.primaryKey ?? [];
      const keyColumns = primaryKey.length > 0 || !currentKey.every((k) => cols.some((c) => c.name === k)) ? primaryKey : currentKey;
      mapped = mapTable(table, cols.map((c) => refineColumn(c, now.get(c.name))), keyColumns);
      this.byKey.set(key, mapped);
    }
    this.byEntry.set(entry, { generation: this.generation, mapped });
    return mapped;
  }

  /** The current schema of a table (for a TRUNCATE, which carries no columns), or undefined if it is gone. */
  async forTable(table: string): Promise<MappedTable | undefined> {
    const info = await this.info(table);
    return info === undefined ? undefined : mapTable(table, info.columns, info.primaryKey);
  }

  /** Forgets what DDL may have changed. */
  invalidate(tables: string[]): void {
    this.generation++;
    for (const t of tables) {
      this.current.delete(t);
      for (const k of [...this.byKey.keys()]) if (k.startsWith(`${t}\0`)) this.byKey.delete(k);
    }
  }

  private async info(table: string): Promise<TableInfo | undefined> {
    if (!this.current.has(table)) this.current.set(table, (await this.load([table])).get(table) ?? null);
    return this.current.get(table) ?? undefined;
  }
}

/** Human-readable differences between two schemas of one table, for `schemaChanges`. */
export function describeSchemaChange(before: TableSchema | undefined, after: TableSchema): string[] {
  if (before === undefined) return [`new table ${after.table}`];
  const old = new Map(before.columns.map((c) => [c.name, c]));
  const now = new Map(after.columns.map((c) => [c.name, c]));
  const notes: string[] = [];
  for (const c of after.columns) {
    const o = old.get(c.name);
    if (o === undefined) notes.push(`${after.table}: column ${c.name} added (${c.duckType})`);
    else if (o.duckType !== c.duckType) notes.push(`${after.table}: column ${c.name} type ${o.duckType} → ${c.duckType}`);
  }
  for (const c of before.columns) if (!now.has(c.name)) notes.push(`${after.table}: column ${c.name} dropped`);
  if (before.primaryKey.join(',') !== after.primaryKey.join(',')) {
    notes.push(`${after.table}: primary key (${before.primaryKey.join(', ')}) → (${after.primaryKey.join(', ')})`);
  }
  return notes;
}
