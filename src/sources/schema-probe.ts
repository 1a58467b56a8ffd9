import type { TableSchema } from '../model/table-schema.js';
import type { SchemaTracker } from './schema-tracker.js';
import type { BatchSink } from './source-connector.js';

/** How often a streaming capture compares the source's catalog with what the destination was told. */
export const PROBE_EVERY_MS = 10_000;

interface Probe<P> {
  /** The source's end of log when the catalog was read. */
  at: P;
  schemas: TableSchema[];
  /** What the capture knew of each table then (JSON), to tell whether the stream said more since. */
  knownThen: Map<string, string | undefined>;
  /** Tables whose DDL the stream brought since: the catalog read may be older or newer than it. */
  touched: Set<string>;
}

/**
 * Finds schema changes the change stream does not carry. PostgreSQL sends a table's new shape
 * only with its next row change, and a MySQL ALTER tells nothing of defaults: a column added to
 * (or renamed in, or a table created in) a table nobody writes afterwards would never reach
 * DuckDB. Every `PROBE_EVERY_MS` the capture reads the catalog with the source's end of log; once
 * the stream has passed that point, any table whose catalog shape differs from what the
 * destination was last told, and of which the stream brought no newer shape since, is declared
 * without rows (`BatchSink.declareTable`) at that point of the stream. That is where it belongs:
 * no row change of that table came between the ALTER and that point, or its shape would be known.
 */
export class SchemaProbe<P> {
  private pending: Probe<P> | null = null;
  private lastAt = 0;
  /** The shape the destination was last told per table (since the stream opened). */
  private readonly told = new Map<string, TableSchema>();

  constructor(private readonly everyMs = PROBE_EVERY_MS) {}

  /** The stream (re)opened: nothing is known about what the destination was told. */
  reset(): void {
    this.pending = null;
    this.told.clear();
    this.lastAt = 0;
  }

  /** Rows of `schema.table` (or the shape alone) went to the destination under this shape. Cheap: called per event. */
  markTold(schema: TableSchema): void {
    this.told.set(schema.table, schema);
  }

  /** True when a new probe should be taken (none pending, and the last one is old enough). */
  due(now = Date.now()): boolean {
    return this.pending === null && now - this.lastAt >= this.everyMs;
  }

  /**
   * Records the catalog, read just before the source's end of log `at` (in that order: every DDL
   * the catalog shows is then before `at`), with what the capture knows of each table now.
   */
  take(at: P, schemas: TableSchema[], known: SchemaTracker): void {
    this.lastAt = Date.now();
    const knownThen = new Map(schemas.map((s) => [s.table, json(known.get(s.table))]));
    this.pending = { at, schemas, knownThen, touched: new Set() };
  }

  /** The stream brought DDL of `table`: the pending probe says nothing reliable about it. */
  invalidate(table: string): void {
    this.pending?.touched.add(table);
  }

  /**
   * Once the stream has `reached` the probe's position: declares to `sink` (without rows) the
   * shapes the destination lacks, and returns the notes on what changed. Tables the batch already
   * wrote, or whose shape the stream changed since the probe, are left to the next probe.
   */
  declareSettled(reached: (at: P) => boolean, sink: BatchSink, known: SchemaTracker): string[] {
    const probe = this.pending;
    if (probe === null || !reached(probe.at)) return [];
    this.pending = null;
    const lost = probe.schemas.filter((s) => {
      if (json(known.get(s.table)) !== probe.knownThen.get(s.table) || sink.hasChanges(s.table) || probe.touched.has(s.table)) return false;
      return json(this.told.get(s.table)) !== JSON.stringify(s);
    });
    const notes: string[] = [];
    for (const schema of lost) {
      notes.push(...known.declare(sink, schema));
      sink.declareTable(schema);
      this.markTold(schema);
    }
    return notes;
  }
}

function json(schema: TableSchema | undefined): string | undefined {
  return schema === undefined ? undefined : JSON.stringify(schema);
}
