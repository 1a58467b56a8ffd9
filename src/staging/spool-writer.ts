import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BatchManifest, BatchSummary, OpCounts, Segment } from '../model/batch.js';
import type { ChangeEvent } from '../model/change-event.js';
import type { Checkpoint } from '../model/checkpoint.js';
import type { TableSchema } from '../model/table-schema.js';
import { encodeSpoolLine } from './spool-format.js';
import { MANIFEST_FILE, segmentFileName } from './spool-paths.js';

/** Schema-change notes a batch summary carries at most. */
const MAX_NOTES = 20;

interface OpenSegment {
  index: number;
  schema: TableSchema;
  stream: WriteStream;
  /** Characters of the longest line so far. */
  longest: number;
}

/**
 * Writes one batch's events to files in a spool directory, one file per (table, schema) run,
 * then a `manifest.json` that makes the batch visible to the load. Memory stays bounded: rows
 * go straight to disk, and `write` waits when the file stream is backed up.
 */
export class SpoolWriter {
  private readonly segments: Segment[] = [];
  private readonly open = new Map<string, OpenSegment>();
  private readonly streams: WriteStream[] = [];
  private readonly schemas = new Map<string, TableSchema>();
  private readonly counts: Record<string, OpCounts> = {};
  /** Tables this batch wrote rows or truncates of. */
  private readonly changed = new Set<string>();
  private ordinal = 0;
  private byteCount = 0;
  private lastCommitTs: string | null = null;
  /** The first error any segment file reported (disk full, directory removed, ...). */
  private failure: Error | null = null;
  private aborted = false;

  private constructor(
    readonly dir: string,
    private readonly pipeline: string,
    readonly batchId: string,
    private readonly from: Checkpoint,
  ) {}

  /** Creates (or empties) the batch's directory. */
  static async create(dir: string, pipeline: string, batchId: string, from: Checkpoint): Promise<SpoolWriter> {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    return new SpoolWriter(dir, pipeline, batchId, from);
  }

  get events(): number {
    return this.ordinal;
  }

  get bytes(): number {
    return this.byteCount;
  }

  /** The latest schema of every table this batch declared. */
  get tables(): TableSchema[] {
    return [...this.schemas.values()];
  }

  /**
   * False when `schema` would change a table this batch already wrote rows of. DuckDB cannot
   * commit a schema change of a table after rows of it in one transaction, so the capture ends
   * the batch before such an event and starts the next batch with it.
   */
  accepts(schema: TableSchema): boolean {
    if (!this.changed.has(schema.table)) return true;
    const current = this.schemas.get(schema.table);
    // Captures hand over the same schema object event after event: compare contents only when it
    // differs, and remember an equal one so the next event takes the fast path.
    if (current === schema) return true;
    if (current === undefined || JSON.stringify(current) !== JSON.stringify(schema)) return false;
    this.schemas.set(schema.table, schema);
    return true;
  }

  /** True when this batch wrote rows or a truncate of `table`. */
  hasChanges(table: string): boolean {
    return this.changed.has(table);
  }

  /** True while the batch holds nothing at all (no rows, truncates or declared shapes). */
  get empty(): boolean {
    return this.segments.length === 0;
  }

  /** See `BatchSink.discardSnapshot`. */
  discardSnapshot(table: string, position: string): void {
    this.closeSegment(table);
    this.segments.push({ kind: 'discard', table, position });
  }

  /** See `BatchSink.beginBackfill`. */
  beginBackfill(table: string, key: string[]): void {
    this.closeSegment(table);
    this.segments.push({ kind: 'backfill-begin', table, key });
  }

  /** See `BatchSink.endBackfill`. */
  endBackfill(table: string, key: string[], position: string, commitTs: string | null): void {
    this.closeSegment(table);
    this.segments.push({ kind: 'backfill-end', table, key, position, commitTs });
  }

  /** See `BatchSink.declareTable`. */
  declareTable(schema: TableSchema): void {
    if (this.changed.has(schema.table)) throw new Error(`${schema.table}: a shape without rows after rows of the table in one batch`);
    this.setSchema(schema);
    this.closeSegment(schema.table);
    this.segments.push({ kind: 'schema', table: schema.table, schema });
  }

  /**
   * Records columns the source renamed (known from DDL), applied in order with the rows around
   * it. Only before the batch wrote rows of the table (see `accepts`).
   */
  renameColumns(table: string, renames: { from: string; to: string }[]): void {
    if (this.changed.has(table)) throw new Error(`${table}: a column rename after rows of the table in one batch`);
    this.closeSegment(table);
    this.segments.push({ kind: 'rename', table, renames });
  }

  /** Declares the schema that following events of `schema.table` use; a change starts a new segment. */
  setSchema(schema: TableSchema): void {
    const current = this.schemas.get(schema.table);
    if (current !== undefined && JSON.stringify(current) === JSON.stringify(schema)) return;
    this.schemas.set(schema.table, schema);
    this.closeSegment(schema.table);
  }

  /** Stages one event; returns a promise only when the file stream is backed up (see `BatchSink.write`). */
  write(event: ChangeEvent): Promise<void> | undefined {
    const schema = this.schemas.get(event.table);
    if (schema === undefined) throw new Error(`no schema declared for ${event.table} before its first event`);
    this.changed.add(event.table);
    if (event.op === 'truncate') {
      this.counted(event);
      this.closeSegment(event.table);
      this.segments.push({
        kind: 'truncate',
        table: event.table,
        schema,
        position: event.position,
        commitTs: event.commitTs,
        seq: event.seq,
        ...(event.shapeOnlyIfNew === true ? { shapeOnlyIfNew: true } : {}),
      });
      this.ordinal++;
      return undefined;
    }
    if (event.values.length !== schema.columns.length) {
      throw new Error(
        `${event.table}: event has ${event.values.length} values but the schema has ${schema.columns.length} columns`,
      );
    }
    this.throwIfFailed();
    this.counted(event);
    const segment = this.segmentFor(schema);
    const line = encodeSpoolLine(this.ordinal++, event);
    this.byteCount += line.length;
    if (line.length > segment.longest) this.longestLine(segment, line.length);
    if (segment.stream.write(line)) return undefined;
    return drained(segment.stream).then(() => this.throwIfFailed());
  }

  /** Closes every file and publishes the manifest; returns the small summary for Temporal. */
  async finish(to: Checkpoint, schemaChanges: string[]): Promise<BatchSummary> {
    this.throwIfFailed();
    this.open.clear();
    await Promise.all(this.streams.map(endStream));
    this.throwIfFailed();
    const manifest: BatchManifest = {
      pipeline: this.pipeline,
      batchId: this.batchId,
      from: this.from,
      to,
      segments: this.segments,
      counts: this.counts,
      events: this.ordinal,
      bytes: this.byteCount,
      schemaChanges,
    };
    const tmp = path.join(this.dir, `${MANIFEST_FILE}.tmp`);
    await writeFile(tmp, JSON.stringify(manifest));
    await rename(tmp, path.join(this.dir, MANIFEST_FILE));
    // The summary travels through Temporal (status keeps the last 20 notes anyway); the manifest keeps them all.
    const notes = schemaChanges.length <= MAX_NOTES ? schemaChanges : [...schemaChanges.slice(0, MAX_NOTES - 1), `… and ${schemaChanges.length - MAX_NOTES + 1} more schema changes`];
    return {
      batchId: this.batchId,
      spoolDir: this.dir,
      counts: this.counts,
      events: this.ordinal,
      bytes: this.byteCount,
      lastCommitTs: this.lastCommitTs,
      schemaChanges: notes,
    };
  }

  /**
   * Drops everything written so far. Waits until every file is closed (a write still in flight
   * completes first), so nothing touches the directory after it is removed. Idempotent.
   */
  async abort(): Promise<void> {
    this.aborted = true;
    this.open.clear();
    await Promise.all(this.streams.map(destroyStream));
    await rm(this.dir, { recursive: true, force: true });
  }

  private segmentFor(schema: TableSchema): OpenSegment {
    const existing = this.open.get(schema.table);
    if (existing !== undefined) {
      const seg = this.segments[existing.index];
      if (seg?.kind === 'rows') seg.rows++;
      return existing;
    }
    const index = this.segments.length;
    const file = segmentFileName(index);
    this.segments.push({ kind: 'rows', table: schema.table, schema, file, rows: 1 });
    const stream = createWriteStream(path.join(this.dir, file));
    // Every stream has a listener: an error (or a write completing after `abort` destroyed the
    // stream) must fail this batch, never the worker process.
    stream.on('error', (err) => {
      if (!this.aborted) this.failure ??= err;
    });
    this.streams.push(stream);
    const opened: OpenSegment = { index, schema, stream, longest: 0 };
    this.open.set(schema.table, opened);
    return opened;
  }

  /** Records a segment's longest line, in UTF-8 bytes at most (3 per UTF-16 unit), for the reader's buffers. */
  private longestLine(segment: OpenSegment, chars: number): void {
    segment.longest = chars;
    const seg = this.segments[segment.index];
    if (seg?.kind === 'rows') seg.maxLineBytes = 3 * chars;
  }

  private closeSegment(table: string): void {
    const seg = this.open.get(table);
    if (seg === undefined) return;
    this.open.delete(table);
    seg.stream.end();
  }

  private throwIfFailed(): void {
    if (this.aborted) throw new Error(`batch ${this.batchId} was aborted`);
    if (this.failure !== null) throw new Error(`writing the staged batch in ${this.dir} failed: ${this.failure.message}`, { cause: this.failure });
  }

  private counted(event: ChangeEvent): void {
    const perTable = (this.counts[event.table] ??= {});
    perTable[event.op] = (perTable[event.op] ?? 0) + 1;
    if (event.commitTs !== null) this.lastCommitTs = event.commitTs;
  }
}

/** Resolves on 'drain'; rejects if the stream fails or closes first. */
function drained(stream: WriteStream): Promise<void> {
  if (stream.destroyed) return Promise.reject(new Error('the spool file was closed'));
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      stream.off('drain', onDrain);
      stream.off('error', done);
      stream.off('close', onClose);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new Error('the spool file was closed'));
    stream.on('drain', onDrain);
    stream.on('error', done);
    stream.on('close', onClose);
  });
}

// Errors are recorded by the writer's listener; these only wait for the file to be closed.
async function endStream(stream: WriteStream): Promise<void> {
  if (stream.closed) return;
  const closed = closeOf(stream);
  stream.end();
  await closed;
}

async function destroyStream(stream: WriteStream): Promise<void> {
  if (stream.closed) return;
  const closed = closeOf(stream);
  stream.destroy();
  await closed;
}

function closeOf(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => stream.once('close', () => resolve()));
}
