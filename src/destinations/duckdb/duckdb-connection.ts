import { DuckDBInstance, type DuckDBConnection, type DuckDBValue, type Json } from '@duckdb/node-api';
import { busyError, isLockConflict } from './duckdb-errors.js';

/** Runs SQL on the session's one connection; only valid inside `DuckDBSession.exclusive`. */
export interface SqlRunner {
  /** The database file's catalog name, for fully qualified table names. */
  readonly catalog: string;
  run(sql: string, params?: DuckDBValue[]): Promise<void>;
  /** Rows as objects of JSON-safe values (BIGINT and DECIMAL as strings). */
  rows(sql: string, params?: DuckDBValue[]): Promise<Record<string, Json>[]>;
}

/**
 * How long an idle session keeps the file open. DuckDB lets one process at a time write a file,
 * so releasing it between batches lets people query the file (e.g. with the duckdb CLI) while a
 * pipeline runs; a load that finds the file held fails with `DestinationBusyError` and is retried.
 */
export const RELEASE_AFTER_MS = 1_000;

interface OpenFile {
  instance: DuckDBInstance;
  connection: DuckDBConnection;
  catalog: string;
}

/**
 * One connection to one DuckDB file, opened when work arrives and released after
 * `releaseAfterMs` without work. Work is queued so no two statements ever run at once on the
 * connection and a transaction's statements are never interleaved with another caller's.
 */
export class DuckDBSession {
  private queue: Promise<unknown> = Promise.resolve();
  private file: OpenFile | null = null;
  private pending = 0;
  private releaseTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly path: string,
    private readonly releaseAfterMs: number,
  ) {}

  /** A session for `path`; opens the file once now, so a held or unreadable file fails here. */
  static async open(path: string, releaseAfterMs = RELEASE_AFTER_MS): Promise<DuckDBSession> {
    const session = new DuckDBSession(path, releaseAfterMs);
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
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.fromCache(this.path);
    } catch (err) {
      throw isLockConflict(err) ? busyError(this.path, err) : err;
    }
    const connection = await instance.connect();
    // Texts without an offset and TIMESTAMPTZ rendering must not depend on the worker's zone.
    await connection.run("SET SESSION TimeZone = 'UTC'");
    const [row] = (await connection.runAndReadAll('SELECT current_database() AS catalog')).getRowObjectsJson();
    if (typeof row?.catalog !== 'string') throw new Error(`cannot read the catalog name of ${this.path}`);
    this.file = { instance, connection, catalog: row.catalog };
    return this.file;
  }

  private scheduleRelease(): void {
    if (this.closed || this.file === null || this.releaseAfterMs < 0) return;
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = null;
      if (this.pending === 0) this.release();
    }, this.releaseAfterMs);
    this.releaseTimer.unref();
  }

  private release(): void {
    if (this.releaseTimer !== null) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    const file = this.file;
    this.file = null;
    file?.connection.closeSync();
    file?.instance.closeSync();
  }
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
