import type { DuckDBConnection, DuckDBValue, Json } from '@duckdb/node-api';
import type { SqlRunner } from '../destinations/duckdb/duckdb-connection.js';

/** The pipeline's copy held at one state for the duration of one `withCopy` call. */
export interface PinnedCopy {
  /** Rows as arrays of JSON values. */
  rows(sql: string, params?: DuckDBValue[]): Promise<Json[][]>;
  /** Column names and rows as arrays of JSON values. */
  table(sql: string): Promise<{ columns: string[]; rows: Json[][] }>;
  runner: SqlRunner;
}

/**
 * Reads a pipeline's copy (a DuckDB file or a DuckLake) read-only, without delaying its loads
 * more than briefly. Queries run one at a time. Implemented by `DuckReader` (a file) and
 * `LakeReader` (a lake).
 */
export interface CopyReader {
  /** Where the copy is, for messages and the report (never a password). */
  readonly path: string;
  /** Rows of a query as arrays of JSON values (VARCHAR as strings), read from the last loaded state. */
  rows(sql: string, params?: DuckDBValue[]): Promise<Json[][]>;
  /** Runs `work` with a `SqlRunner` on the copy (for the destination's own readers, e.g. `TableRegistry.load`). */
  withRunner<T>(work: (db: SqlRunner) => Promise<T>): Promise<T>;
  /**
   * Runs `work` on one state of the copy: all its queries see the same loaded rows, and a later
   * call sees what was loaded meanwhile. Keep it short (a file's loads wait for it).
   */
  withCopy<T>(work: (copy: PinnedCopy) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A `PinnedCopy` on an open connection whose default catalog is `catalog`. */
export function pinnedCopy(connection: DuckDBConnection, catalog: string): PinnedCopy {
  return {
    rows: async (sql, params) => (await connection.runAndReadAll(sql, params)).getRowsJson(),
    table: async (sql) => {
      const reader = await connection.runAndReadAll(sql);
      return { columns: reader.columnNames(), rows: reader.getRowsJson() };
    },
    runner: {
      catalog,
      async run(sql, params) {
        await connection.run(sql, params);
      },
      async rows(sql, params) {
        return (await connection.runAndReadAll(sql, params)).getRowObjectsJson();
      },
    },
  };
}
