import { checkpointKey, type BackfillProgress, type BackfillRequest, type Checkpoint, type TableBackfill } from '../model/checkpoint.js';
import type { TableSchema } from '../model/table-schema.js';
import type { BatchSink } from './source-connector.js';

/**
 * Incremental copies of tables while streaming goes on (the DBLog / incremental-snapshot idea).
 *
 * A chunk is the next `chunkRows` rows of a table in primary-key order after the last key copied.
 * The source writes a low watermark to its own change stream, reads the chunk (an ordinary
 * statement: no long transaction), and writes a high watermark. While the stream is read between
 * the two watermarks, every change of the table removes its key from the chunk: the stream brings
 * that row's newer state itself. At the high watermark the rest of the chunk is written as
 * `snapshot` rows at the high watermark's position; they equal the source there (no change of them
 * came between the watermarks, and the read came after the low one), and every later change
 * follows them. So copied rows never override newer changes, whatever the concurrent writes.
 *
 * In MERGE mode a copy also removes rows the source no longer has: its first low watermark marks
 * the table's live keys unseen (`BackfillBeginSegment`), every change and copied row after it marks
 * its key seen, and after the last chunk the unseen rows end deleted (`BackfillEndSegment`).
 *
 * Progress lives in the checkpoint (`Checkpoint.backfill`), written with the batch that loads a
 * chunk: after a crash the copy goes on after the last chunk loaded. A chunk read but not loaded is
 * read again under new watermarks (those of the lost one are ignored).
 */

/** Rows per chunk at most, whatever `snapshot.chunkRows` says: a chunk is held in memory until its high watermark. */
export const BACKFILL_CHUNK_MAX = 10_000;

/**
 * MySQL/MariaDB have no stream messages: watermarks are rows of this table, created in the copied
 * table's database when a copy first needs it (one row per pipeline). It is never replicated.
 */
export const WATERMARK_TABLE = '_ducktail_watermark';

/** Watermark messages: the source writes them into its change stream with this prefix / marker. */
export const WATERMARK_PREFIX = 'ducktail.watermark';

export interface Watermark {
  /** The chunk's id (random): watermarks of other chunks, pipelines or crashed workers are ignored. */
  chunk: string;
  mark: 'low' | 'high';
}

export function watermarkText(w: Watermark): string {
  return JSON.stringify(w);
}

/** A watermark's content, or null when it is not one of ours. */
export function parseWatermark(content: string): Watermark | null {
  try {
    const w = JSON.parse(content) as Partial<Watermark>;
    return typeof w.chunk === 'string' && (w.mark === 'low' || w.mark === 'high') ? { chunk: w.chunk, mark: w.mark } : null;
  } catch {
    return null;
  }
}

/** The table being copied, if any: the first of the checkpoint's backfill list. */
export function activeBackfill(from: Checkpoint): TableBackfill | null {
  return from.backfill?.tables[0] ?? null;
}

/**
 * `from` with the requests it has not taken in yet: their tables join the copy list (a table
 * already in it starts over). Requests wait while the initial snapshot runs. Returns `from`
 * itself when nothing is new.
 */
export function withRequests(from: Checkpoint, requests: BackfillRequest[] | undefined): Checkpoint {
  if (from.snapshot !== undefined || requests === undefined) return from;
  const accepted = from.backfill?.accepted ?? [];
  const fresh = requests.filter((r) => !accepted.includes(r.id));
  if (fresh.length === 0) return from;
  let tables = [...(from.backfill?.tables ?? [])];
  for (const r of fresh) {
    for (const table of r.tables) {
      tables = tables.filter((t) => t.table !== table);
      const keys = r.keys?.[table];
      tables.push({ table, reason: r.reason, rows: 0, chunks: 0, ...(keys === undefined ? {} : { keys, estimate: keys.length }) });
    }
  }
  return { ...from, backfill: { tables, accepted: [...accepted, ...fresh.map((r) => r.id)].slice(-20) } };
}

/** What a finished chunk did to the table's progress. */
export interface ChunkDone {
  table: string;
  rows: number;
  lastKey: (string | null)[] | undefined;
  /** The table has no rows after this chunk: its copy is complete. */
  last: boolean;
  estimate?: number;
  startedAt: string;
}

/** The backfill progress after `done` (the finished table leaves the list). */
export function advanceBackfill(progress: BackfillProgress, done: ChunkDone): BackfillProgress {
  const tables = progress.tables.flatMap((t): TableBackfill[] => {
    if (t.table !== done.table) return [t];
    if (done.last) return [];
    const next: TableBackfill = { ...t, rows: t.rows + done.rows, chunks: t.chunks + 1, startedAt: t.startedAt ?? done.startedAt };
    if (done.lastKey !== undefined) next.lastKey = done.lastKey;
    const estimate = t.estimate ?? done.estimate;
    if (estimate !== undefined) next.estimate = estimate;
    return [next];
  });
  return { ...progress, tables };
}

/** A table's name, gone or without a primary key: its copy is dropped with a note. */
export function skipBackfill(progress: BackfillProgress, table: string): BackfillProgress {
  return { ...progress, tables: progress.tables.filter((t) => t.table !== table) };
}

/** Rows of a chunk as the source read them, in the shape `schema`, with their keys. */
export interface ChunkRows {
  schema: TableSchema;
  /** Converted values in column order (as the stream's events carry them). */
  rows: (string | null)[][];
  /** The key of the last row read, as the source's text, for the next chunk. */
  lastKey: (string | null)[] | undefined;
  /** Fewer rows than asked for: nothing after this chunk. */
  last: boolean;
  /** The table's rows as the source estimates them (first chunk only). */
  estimate?: number;
}

/**
 * One chunk between its watermarks, as the stream reader sees it: `open` after the low watermark,
 * changes of the table remove their keys, and at the high watermark the rest is written.
 */
export class ChunkWindow {
  private open = false;
  private readonly pending = new Map<string, (string | null)[]>();
  /** Keys the read returned, and keys changed between the watermarks. */
  private readonly read = new Set<string>();
  private readonly seen = new Set<string>();
  private readonly keyIdx: number[];

  constructor(
    readonly id: string,
    readonly entry: TableBackfill,
    readonly chunk: ChunkRows,
  ) {
    const { schema } = chunk;
    this.keyIdx = schema.primaryKey.map((k) => schema.columns.findIndex((c) => c.name === k));
    for (const row of chunk.rows) {
      const key = JSON.stringify(this.keyIdx.map((i) => row[i] ?? null));
      this.pending.set(key, row);
      this.read.add(key);
    }
  }

  get table(): string {
    return this.entry.table;
  }

  /** True between the low and the high watermark. */
  get isOpen(): boolean {
    return this.open;
  }

  /** The low watermark arrived: begins the copy in the batch when it is the table's first chunk. */
  low(sink: BatchSink): void {
    this.open = true;
    if (this.entry.keys === undefined && this.entry.chunks === 0 && this.entry.lastKey === undefined) sink.beginBackfill(this.table, this.chunk.schema.primaryKey);
  }

  /** True when the table's copy ends with this chunk and rows never seen since it began must go (whole-table copies). */
  get endsCopy(): boolean {
    return this.chunk.last && this.entry.keys === undefined;
  }

  /**
   * A repair of listed keys: those the source did not return and no change touched between the
   * watermarks no longer exist at the source (as values in column order, key columns only).
   */
  gone(): (string | null | undefined)[][] {
    const keys = this.entry.keys;
    if (keys === undefined) return [];
    const { schema } = this.chunk;
    return keys
      .filter((k) => !this.read.has(JSON.stringify(k)) && !this.seen.has(JSON.stringify(k)))
      .map((k) => schema.columns.map((_, i) => (this.keyIdx.includes(i) ? k[this.keyIdx.indexOf(i)] : undefined)));
  }

  /**
   * A change of the table while open, with the shape it came under: the stream brings that key's
   * state, the chunk must not.
   */
  touched(schema: TableSchema, values: readonly (string | null | undefined)[], oldKey?: readonly (string | null)[]): void {
    if (!this.open) return;
    const idx = schema === this.chunk.schema ? this.keyIdx : schema.primaryKey.map((k) => schema.columns.findIndex((c) => c.name === k));
    const key = JSON.stringify(idx.map((i) => values[i] ?? null));
    this.pending.delete(key);
    this.seen.add(key);
    if (oldKey !== undefined) {
      this.pending.delete(JSON.stringify(oldKey));
      this.seen.add(JSON.stringify(oldKey));
    }
  }

  /** A truncate of the table while open: nothing read before it is left (and the truncate deleted every listed key). */
  truncated(): void {
    if (!this.open) return;
    this.pending.clear();
    for (const k of this.entry.keys ?? []) this.seen.add(JSON.stringify(k));
  }

  /** The rows to write at the high watermark. */
  rows(): IterableIterator<(string | null)[]> {
    return this.pending.values();
  }

  /** What the chunk did to the table's progress once written. */
  done(startedAt: string): ChunkDone {
    const { estimate } = this.chunk;
    return {
      table: this.table,
      rows: this.chunk.rows.length,
      lastKey: this.chunk.lastKey,
      last: this.chunk.last,
      startedAt,
      ...(estimate === undefined ? {} : { estimate }),
    };
  }
}

/**
 * A source's chunk in flight across captures: the window, and which capture may continue it. A
 * window continues only in the capture that starts where the last one that read it ended (its
 * batch was loaded); otherwise (that batch was discarded, the stream reopened) the chunk is read
 * again under new watermarks.
 */
export class ChunkTracker {
  window: ChunkWindow | null = null;
  /** Set when the high watermark of `window` was handled in the current capture. */
  done: ChunkDone | null = null;
  private after: string | null = null;

  /** Call at the start of a capture: the window to go on with, or null when a new chunk must be read. */
  resume(from: Checkpoint): ChunkWindow | null {
    this.done = null;
    const entry = activeBackfill(from);
    const w = this.window;
    const same =
      w !== null &&
      entry !== null &&
      this.after === progressKey(from) &&
      w.entry.table === entry.table &&
      w.entry.chunks === entry.chunks &&
      JSON.stringify(w.entry.lastKey) === JSON.stringify(entry.lastKey);
    if (!same) this.window = null;
    return this.window;
  }

  /** Call with the checkpoint a capture ends at (before the batch id is set). */
  ended(to: Checkpoint): void {
    this.after = progressKey(to);
  }

  /** The stream reopened: nothing read before continues. */
  reset(): void {
    this.window = null;
    this.done = null;
    this.after = null;
  }
}

function progressKey(c: Checkpoint): string {
  return checkpointKey({ ...c, batchId: '' });
}
