import type { TableSchema } from '../model/table-schema.js';
import type { BatchSink } from './source-connector.js';

/** Human-readable differences between two shapes of one table, e.g. `public.t: added column c (text)`. */
export function describeSchemaChange(before: TableSchema | undefined, after: TableSchema): string[] {
  if (before === undefined) return [`${after.table}: new table (${after.columns.length} columns)`];
  const notes: string[] = [];
  const old = new Map(before.columns.map((c) => [c.name, c]));
  for (const c of after.columns) {
    const prev = old.get(c.name);
    if (prev === undefined) notes.push(`${after.table}: added column ${c.name} (${c.sourceType})`);
    else if (prev.sourceType !== c.sourceType || prev.duckType !== c.duckType) {
      notes.push(`${after.table}: column ${c.name} changed type ${prev.sourceType} -> ${c.sourceType}`);
    }
  }
  for (const c of before.columns) {
    if (!after.columns.some((a) => a.name === c.name)) notes.push(`${after.table}: column ${c.name} dropped at the source (kept, null from now on)`);
  }
  if (before.primaryKey.join(',') !== after.primaryKey.join(',')) {
    notes.push(`${after.table}: primary key (${before.primaryKey.join(', ')}) -> (${after.primaryKey.join(', ')})`);
  }
  return notes;
}

/**
 * Every source's memory of table shapes: each table's last shape across batches (to report
 * changes) and which shapes the current batch's sink has been told (a new sink must hear every
 * table's schema before its rows).
 */
export class SchemaTracker {
  private readonly known = new Map<string, TableSchema>();
  private sink: BatchSink | null = null;
  private readonly declared = new Set<string>();

  /** Seeds a table's shape without reporting it (tables that existed when capture started). */
  seed(schema: TableSchema): void {
    if (!this.known.has(schema.table)) this.known.set(schema.table, schema);
  }

  /** The last shape seen of `table`. */
  get(table: string): TableSchema | undefined {
    return this.known.get(table);
  }

  /** True once `seed` or `declare` has seen `table`. */
  has(table: string): boolean {
    return this.known.has(table);
  }

  /** Records a table's shape without reporting it (e.g. the shape a snapshot copies under, told to the sink by `declare`). */
  remember(schema: TableSchema): void {
    this.known.set(schema.table, schema);
  }

  /** Keeps the last shape of a table in step with columns the source renamed, so the change is not reported as drop + add. */
  rename(table: string, renames: { from: string; to: string }[]): void {
    const known = this.known.get(table);
    if (known === undefined) return;
    const name = (n: string): string => renames.find((r) => r.from === n)?.to ?? n;
    this.known.set(table, { ...known, columns: known.columns.map((c) => ({ ...c, name: name(c.name) })), primaryKey: known.primaryKey.map(name) });
  }

  /** True when `sink` has been told a shape of `table` (by `declare`). */
  told(sink: BatchSink, table: string): boolean {
    return this.sink === sink && this.declared.has(table);
  }

  /** Declares `schema` to `sink` when the sink has not heard it yet; returns notes on what changed. */
  declare(sink: BatchSink, schema: TableSchema): string[] {
    if (this.sink !== sink) {
      this.sink = sink;
      this.declared.clear();
    }
    const before = this.known.get(schema.table);
    // Same object: the common case, one per event, so avoid serialising.
    const changed = before !== schema && (before === undefined || JSON.stringify(before) !== JSON.stringify(schema));
    const notes = changed ? describeSchemaChange(before, schema) : [];
    this.known.set(schema.table, schema);
    if (changed || !this.declared.has(schema.table)) {
      sink.setSchema(schema);
      this.declared.add(schema.table);
    }
    return notes;
  }
}
