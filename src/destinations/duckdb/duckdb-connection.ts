import { DuckDBInstance, type DuckDBConnection, type DuckDBValue, type Json } from '@duckdb/node-api';
import { busyError, isLockConflict } from './duckdb-errors.js';

/** Runs SQL on the session's one connection; only valid inside `DuckDBSession.exclusive`. */
export interface SqlRunner {
  run(sql: string, params?: DuckDBValue[]): Promise<void>;
  /** Rows as objects of JSON-safe values (BIGINT and DECIMAL as strings). */
  rows(sql: string, params?: DuckDBValue[]): Promise<Record<string, Json>[]>;
}

/**
 * One connection to one DuckDB file. The instance comes from DuckDB's process-wide cache, so a
 * file is opened once per process; work is queued so no two statements ever run at once on the
 * connection and a transaction's statements are never interleaved with another caller's.
 */
export class DuckDBSession {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  /** Opens `path`; throws `DestinationBusyError` when another process holds the file's lock. */
  static async open(path: string): Promise<DuckDBSession> {
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.fromCache(path);
    } catch (err) {
      throw isLockConflict(err) ? busyError(path, err) : err;
    }
    const connection = await instance.connect();
    // Texts without an offset and TIMESTAMPTZ rendering must not depend on the worker's zone.
    await connection.run("SET SESSION TimeZone = 'UTC'");
    return new DuckDBSession(path, instance, connection);
  }

  /** Runs `work` alone on the connection, after every earlier call finished. */
  exclusive<T>(work: (db: SqlRunner) => Promise<T>): Promise<T> {
    const next = this.queue.then(() => {
      if (this.closed) throw new Error(`DuckDB session for ${this.path} is closed`);
      return work(this.runner);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Waits for queued work, then releases the connection and this handle on the instance. */
  async close(): Promise<void> {
    await this.exclusive(() => {
      this.closed = true;
      return Promise.resolve();
    });
    this.connection.closeSync();
    this.instance.closeSync();
  }

  private readonly runner: SqlRunner = {
    run: async (sql, params) => {
      await this.connection.run(sql, params);
    },
    rows: async (sql, params) => (await this.connection.runAndReadAll(sql, params)).getRowObjectsJson(),
  };
}
