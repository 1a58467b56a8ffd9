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
 * One connection to one DuckDB file. The instance comes from DuckDB's process-wide cache, so a
 * file is opened once per process; work is queued so no two statements ever run at once on the
 * connection and a transaction's statements are never interleaved with another caller's.
 */
export class DuckDBSession {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly catalog: string,
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
    const [row] = (await connection.runAndReadAll('SELECT current_database() AS catalog')).getRowObjectsJson();
    if (typeof row?.catalog !== 'string') throw new Error(`cannot read the catalog name of ${path}`);
    return new DuckDBSession(path, instance, connection, row.catalog);
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

  /** Waits for queued work, then releases the connection and this handle on the instance. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.exclusive(() => {
      this.closed = true;
      this.connection.closeSync();
      this.instance.closeSync();
      return Promise.resolve();
    });
    return this.closing;
  }

  private get runner(): SqlRunner {
    const connection = this.connection;
    return {
      catalog: this.catalog,
      async run(sql, params) {
        await connection.run(sql, params);
      },
      async rows(sql, params) {
        return (await connection.runAndReadAll(sql, params)).getRowObjectsJson();
      },
    };
  }
}
