import { access } from 'node:fs/promises';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue, type Json } from '@duckdb/node-api';
import type { SqlRunner } from '../destinations/duckdb/duckdb-connection.js';
import { isLockConflict } from '../destinations/duckdb/duckdb-errors.js';
import { jsonText } from '../destinations/duckdb/duckdb-sql.js';
import { pinnedCopy, type CopyReader, type PinnedCopy } from './copy-reader.js';
import { VerifyError } from './verify-errors.js';

export interface DuckReaderOptions {
  /** Close the file after it has been open this long (then let the worker in before reopening). */
  holdMs?: number;
  /** Close it after this long without a query. */
  idleMs?: number;
  /** After a close for `holdMs`, wait this long before opening again. */
  yieldMs?: number;
  /** Give up opening after the file was held by another process this long. */
  busyTimeoutMs?: number;
}

interface OpenFile {
  instance: DuckDBInstance;
  connection: DuckDBConnection;
  catalog: string;
  openedAt: number;
}

const RETRY_MS = 100;

/**
 * Reads a pipeline's DuckDB file while the worker may hold it: opens read-only, retrying every
 * 100 ms while another process holds the lock (the worker gives the file up between loads, see
 * duckdb-connection.ts), and never keeps it long. It closes the file `idleMs` after the last
 * query, and after `holdMs` of queries closes it and stays away `yieldMs`, so the pipeline's
 * loads (which wait and retry) are delayed by at most about `holdMs`. Queries run one at a time.
 */
export class DuckReader implements CopyReader {
  private file: OpenFile | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private idleTimer: NodeJS.Timeout | null = null;
  private pending = 0;
  private closedUntil = 0;
  private readonly holdMs: number;
  private readonly idleMs: number;
  private readonly yieldMs: number;
  private readonly busyTimeoutMs: number;

  constructor(
    readonly path: string,
    options: DuckReaderOptions = {},
  ) {
    this.holdMs = options.holdMs ?? 500;
    this.idleMs = options.idleMs ?? 50;
    this.yieldMs = options.yieldMs ?? 300;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 120_000;
  }

  /** Throws `VerifyError` when the file does not exist. */
  async checkExists(): Promise<void> {
    try {
      await access(this.path);
    } catch {
      throw new VerifyError(
        `DuckDB file ${this.path} does not exist`,
        'the pipeline has loaded nothing yet: start it (ducktail start) and verify once it has copied its tables',
      );
    }
  }

  /** Rows of a query as arrays of JSON values (VARCHAR as strings). */
  rows(sql: string, params?: DuckDBValue[]): Promise<Json[][]> {
    return this.withCopy((file) => file.rows(sql, params));
  }

  /** Runs `work` with a `SqlRunner` on the open file (for the destination's own readers, e.g. `TableRegistry.load`). */
  withRunner<T>(work: (db: SqlRunner) => Promise<T>): Promise<T> {
    return this.withCopy((file) => work(file.runner));
  }

  /**
   * Runs `work` on the file held open throughout, so all its queries see one state of the file
   * (the writer cannot change it meanwhile). Keep it short: the pipeline's loads wait for it.
   */
  withCopy<T>(work: (file: PinnedCopy) => Promise<T>): Promise<T> {
    return this.withConnection((connection, catalog) => work(pinnedCopy(connection, catalog)));
  }

  /** Closes the file (queued after running queries). */
  async close(): Promise<void> {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    await this.queue;
    this.release();
  }

  private withConnection<T>(work: (c: DuckDBConnection, catalog: string) => Promise<T>): Promise<T> {
    this.pending++;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const next = this.queue
      .then(async () => {
        if (this.file !== null && Date.now() - this.file.openedAt > this.holdMs) {
          this.release();
          this.closedUntil = Date.now() + this.yieldMs;
        }
        const file = await this.acquire();
        return work(file.connection, file.catalog);
      })
      .finally(() => {
        if (--this.pending === 0) this.scheduleRelease();
      });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private scheduleRelease(): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.pending === 0) this.release();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private async acquire(): Promise<OpenFile> {
    if (this.file !== null) return this.file;
    const wait = this.closedUntil - Date.now();
    if (wait > 0) await sleep(wait);
    const instance = await this.openInstance();
    try {
      const connection = await instance.connect();
      const [row] = (await connection.runAndReadAll('SELECT current_database()')).getRowsJson();
      this.file = { instance, connection, catalog: jsonText(row?.[0]) ?? '', openedAt: Date.now() };
      return this.file;
    } catch (err) {
      instance.closeSync();
      throw err;
    }
  }

  private async openInstance(): Promise<DuckDBInstance> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (;;) {
      try {
        return await DuckDBInstance.create(this.path, { access_mode: 'READ_ONLY' });
      } catch (err) {
        if (!isLockConflict(err)) throw new VerifyError(`cannot open DuckDB file ${this.path}: ${(err as Error).message.split('\n')[0]}`);
        if (Date.now() > deadline) {
          throw new VerifyError(
            `DuckDB file ${this.path} stayed locked by another process for ${Math.round(this.busyTimeoutMs / 1000)} s`,
            'a ducktail worker gives the file up between loads; close other programs (a duckdb CLI session) holding it, then verify again',
          );
        }
        await sleep(RETRY_MS);
      }
    }
  }

  private release(): void {
    const file = this.file;
    this.file = null;
    if (file === null) return;
    file.connection.closeSync();
    file.instance.closeSync();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
