import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import type { BatchManifest, BatchSummary, OpCounts, Segment } from '../model/batch.js';
import type { ChangeEvent } from '../model/change-event.js';
import type { Checkpoint } from '../model/checkpoint.js';
import type { TableSchema } from '../model/table-schema.js';
import { encodeSpoolLine } from './spool-format.js';

interface OpenSegment {
  index: number;
  schema: TableSchema;
  stream: WriteStream;
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
  private ordinal = 0;
  private byteCount = 0;
  private lastCommitTs: string | null = null;

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

  /** Declares the schema that following events of `schema.table` use; a change starts a new segment. */
  setSchema(schema: TableSchema): void {
    const current = this.schemas.get(schema.table);
    if (current !== undefined && JSON.stringify(current) === JSON.stringify(schema)) return;
    this.schemas.set(schema.table, schema);
    this.closeSegment(schema.table);
  }

  async write(event: ChangeEvent): Promise<void> {
    const schema = this.schemas.get(event.table);
    if (schema === undefined) throw new Error(`no schema declared for ${event.table} before its first event`);
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
      });
      this.ordinal++;
      return;
    }
    if (event.values.length !== schema.columns.length) {
      throw new Error(
        `${event.table}: event has ${event.values.length} values but the schema has ${schema.columns.length} columns`,
      );
    }
    this.counted(event);
    const segment = this.segmentFor(schema);
    const line = encodeSpoolLine(this.ordinal++, event);
    this.byteCount += line.length;
    if (!segment.stream.write(line)) await once(segment.stream, 'drain');
  }

  /** Closes every file and publishes the manifest; returns the small summary for Temporal. */
  async finish(to: Checkpoint, schemaChanges: string[]): Promise<BatchSummary> {
    this.open.clear();
    await Promise.all(this.streams.map(endStream));
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
    const tmp = path.join(this.dir, 'manifest.json.tmp');
    await writeFile(tmp, JSON.stringify(manifest));
    await rename(tmp, path.join(this.dir, 'manifest.json'));
    return {
      batchId: this.batchId,
      spoolDir: this.dir,
      from: this.from,
      to,
      counts: this.counts,
      events: this.ordinal,
      bytes: this.byteCount,
      lastCommitTs: this.lastCommitTs,
      schemaChanges,
    };
  }

  /** Drops everything written so far. */
  async abort(): Promise<void> {
    for (const s of this.streams) s.destroy();
    this.open.clear();
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
    const file = `${String(index).padStart(5, '0')}.ndjson`;
    this.segments.push({ kind: 'rows', table: schema.table, schema, file, rows: 1 });
    const stream = createWriteStream(path.join(this.dir, file));
    this.streams.push(stream);
    const opened: OpenSegment = { index, schema, stream };
    this.open.set(schema.table, opened);
    return opened;
  }

  private closeSegment(table: string): void {
    const seg = this.open.get(table);
    if (seg === undefined) return;
    this.open.delete(table);
    seg.stream.end();
  }

  private counted(event: ChangeEvent): void {
    const perTable = (this.counts[event.table] ??= {});
    perTable[event.op] = (perTable[event.op] ?? 0) + 1;
    if (event.commitTs !== null) this.lastCommitTs = event.commitTs;
  }
}

async function endStream(stream: WriteStream): Promise<void> {
  if (stream.closed) return;
  const closed = once(stream, 'close');
  stream.end();
  await closed;
}
