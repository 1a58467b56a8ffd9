import { DuckDBInstance, type DuckDBConnection, type DuckDBValue, type Json } from '@duckdb/node-api';
import { busyError, isLockConflict, openError } from './duckdb-errors.js';

/** Runs SQL on the session's one connection; only valid inside `DuckDBSession.exclusive`. */
export interface SqlRunner {
  /** The database file's catalog name, for fully qualified table names. */
  readonly catalog: string;
  run(sql: string, params?: DuckDBValue[]): Promise<void>;
  /** Rows as objects of JSON-safe values (BIGINT and DECIMAL as strings). */
  rows(sql: string, params?: DuckDBValue[]): Promise<Record<string, Json>[]>;
}

/** A destination's connection: work runs one call at a time on one `SqlRunner`. */
export interface SqlSession {
  /** Where the data lives, for messages (the DuckDB file, or a description of the lake). */
  readonly path: string;
  /** Runs `work` alone on the connection, after every earlier call finished. */
  exclusive<T>(work: (db: SqlRunner) => Promise<T>): Promise<T>;
  /** Waits for queued work, then closes. Idempotent. */
  close(): Promise<void>;
}

/**
 * How long an idle session keeps the file open. DuckDB lets one process at a time open a file
 * for writing, so releasing it between batches lets people query the file (e.g. with the duckdb
 * CLI) while a pipeline runs. Under steady load batches come every `maxWaitMs` (400 ms by
 * default) and load in tens of milliseconds, so a quarter second lets a reader in between two
 * loads: `npm run bench -- --scenario pg-steady` measured commit → visible p50/p99 at 1k
 * changes/s of 0.9/1.4 s with 250 ms, 1.4/2.8 s with 1 s (and a 1 s `maxWaitMs`: 1.9/4.1 s),
 * and backlog throughput did not change measurably (a backlog's loads come back to back).
 */
export const RELEASE_AFTER_MS = 250;

/**
 * Under steady load the session is never idle, so it also yields the file on a clock: once the
 * file has been open `MAX_HOLD_MS` since it was last opened, it is closed after the current unit
 * of work (a load's transaction, a checkpoint read) and stays closed for `READER_WINDOW_MS`, in
 * which a reader retrying every ~100 ms gets in. A reader so waits at most about MAX_HOLD_MS plus
 * one unit of work. Cost, measured on this machine on a 267 MB file (6M rows with a primary key)
 * after 2,000-row upserts: close (DuckDB checkpoints the WAL into the file) p50 136 ms, max 309 ms;
 * reopen p50 20 ms, max 41 ms. So a yield costs ~0.16 s plus the window per ~2 s of back-to-back
 * work (under 25% of wall time at worst), and nothing when loads leave the file idle for
 * `RELEASE_AFTER_MS` anyway (long captures of a large backlog). Skipping the checkpoint on these
 * closes (`disable_checkpoint_on_shutdown`) is no cheaper: the next open replays the growing WAL
 * (p50 140 ms, max 262 ms over 80 such cycles), and so does every reader.
 */
export const MAX_HOLD_MS = 2_000;
export const READER_WINDOW_MS = 400;

/**
 * How long an open waits for another process (a reader) to release the file, retrying every
 * `BUSY_RETRY_MS`, before failing with the retryable `DestinationBusyError` (and going through
 * Temporal's backoff). Activities heartbeat while they wait (a capture opening, a load), so the
 * wait is not taken for a dead worker by the workflow's 10 s heartbeat timeout.
 */
export const BUSY_WAIT_MS = 15_000;
export const BUSY_RETRY_MS = 100;

export interface SessionOptions {
  releaseAfterMs?: number;
  maxHoldMs?: number;
  readerWindowMs?: number;
  busyWaitMs?: number;
}

interface OpenFile {
  instance: DuckDBInstance;
  connection: DuckDBConnection;
  catalog: string;
  openedAt: number;
}

/**
 * One connection to one DuckDB file, opened when work arrives and released after
 * `releaseAfterMs` without work, or after `maxHoldMs` of back-to-back work; after every release
 * the file stays closed for `readerWindowMs`, so a reader that retries gets in.
 * Work is queued so no two statements ever run at once on the connection and a transaction's
 * statements are never interleaved with another caller's.
 */
export class DuckDBSession implements SqlSession {
  private queue: Promise<unknown> = Promise.resolve();
  private file: OpenFile | null = null;
  private pending = 0;
  private releaseTimer: NodeJS.Timeout | null = null;
  /** Until then the file stays closed, for readers. */
  private closedUntil = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly releaseAfterMs: number;
  private readonly maxHoldMs: number;
  private readonly readerWindowMs: number;
  private readonly busyWaitMs: number;

  private constructor(
    readonly path: string,
    options: SessionOptions,
  ) {
    this.releaseAfterMs = options.releaseAfterMs ?? RELEASE_AFTER_MS;
    this.maxHoldMs = options.maxHoldMs ?? MAX_HOLD_MS;
    this.readerWindowMs = options.readerWindowMs ?? READER_WINDOW_MS;
    this.busyWaitMs = options.busyWaitMs ?? BUSY_WAIT_MS;
  }

  /** A session for `path`; opens the file once now, so an unusable file fails here (a held one after `busyWaitMs`). */
  static async open(path: string, options: SessionOptions | number = {}): Promise<DuckDBSession> {
    const session = new DuckDBSession(path, typeof options === 'number' ? { releaseAfterMs: options } : options);
    await session.exclusive(() => Promise.resolve());
    return session;
  }

  /** Runs `work` alone on the connection, after every earlier call finished. */
  exclusive<T>(work: (db: SqlRunner) => Promise<T>): Promise<T> {
    this.pending++;
    if (this.releaseTimer !== null) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    const next = this.queue
      .then(async () => {
        if (this.closed) throw new Error(`DuckDB session for ${this.path} is closed`);
        return work(runner(await this.acquire()));
      })
      .finally(() => {
        this.yieldIfHeldTooLong();
        if (--this.pending === 0) this.scheduleRelease();
      });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Waits for queued work, then releases the file. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.exclusive(() => {
      this.closed = true;
      return Promise.resolve();
    }).then(() => this.release());
    return this.closing;
  }

  private async acquire(): Promise<OpenFile> {
    if (this.file !== null) return this.file;
    const windowLeft = this.closedUntil - Date.now();
    if (windowLeft > 0) await sleep(windowLeft);
    const instance = await this.openInstance();
    try {
      const connection = await instance.connect();
      // Texts without an offset and TIMESTAMPTZ rendering must not depend on the worker's zone.
      await connection.run("SET SESSION TimeZone = 'UTC'");
      const [row] = (await connection.runAndReadAll('SELECT current_database() AS catalog')).getRowObjectsJson();
      if (typeof row?.catalog !== 'string') throw new Error(`cannot read the catalog name of ${this.path}`);
      this.file = { instance, connection, catalog: row.catalog, openedAt: Date.now() };
      return this.file;
    } catch (err) {
      instance.closeSync();
      throw err;
    }
  }

  /** Opens the file, waiting up to `busyWaitMs` while another process holds it. */
  private async openInstance(): Promise<DuckDBInstance> {
    const deadline = Date.now() + this.busyWaitMs;
    for (;;) {
      try {
        return await DuckDBInstance.fromCache(this.path);
      } catch (err) {
        if (!isLockConflict(err)) throw openError(this.path, err);
        if (Date.now() + BUSY_RETRY_MS > deadline) throw busyError(this.path, err);
        await sleep(BUSY_RETRY_MS);
      }
    }
  }

  /** After a unit of work: close the file for a reader window if it has been open too long. */
  private yieldIfHeldTooLong(): void {
    if (this.file === null || this.closed || this.maxHoldMs < 0) return;
    if (Date.now() - this.file.openedAt < this.maxHoldMs) return;
    this.release();
  }

  private scheduleRelease(): void {
    if (this.closed || this.file === null || this.releaseAfterMs < 0) return;
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = null;
      if (this.pending === 0) this.release();
    }, this.releaseAfterMs);
    this.releaseTimer.unref();
  }

  /** Closes the file; the next open waits out the reader window (counted from when the close has finished). */
  private release(): void {
    if (this.releaseTimer !== null) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    const file = this.file;
    this.file = null;
    if (file === null) return;
    file.connection.closeSync();
    file.instance.closeSync();
    this.closedUntil = Date.now() + this.readerWindowMs;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function runner(file: OpenFile): SqlRunner {
  const { connection, catalog } = file;
  return {
    catalog,
    async run(sql, params) {
      await connection.run(sql, params);
    },
    async rows(sql, params) {
      return (await connection.runAndReadAll(sql, params)).getRowObjectsJson();
    },
  };
}
