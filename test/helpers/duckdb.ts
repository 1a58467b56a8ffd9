import { DuckDBInstance } from '@duckdb/node-api';

/**
 * Runs a read query on a DuckDB file through the process-wide instance cache, so it works
 * while an in-process worker holds the same file. Values come back as JSON-friendly JS values.
 */
export async function duckQuery(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.fromCache(path);
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJson();
  } finally {
    connection.closeSync();
  }
}
