import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
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

/**
 * Another process holding the DuckDB file open, as a user's duckdb CLI session would (it keeps a
 * reference to the instance: an unreferenced one is closed by the garbage collector).
 */
export async function holdDuckDBFile(file: string): Promise<ChildProcess> {
  const script = `const { DuckDBInstance } = require('@duckdb/node-api');
    DuckDBInstance.create(${JSON.stringify(file)}).then(
      (db) => { globalThis.held = db; console.log('open'); setInterval(() => {}, 1000); },
      (err) => { console.log('failed: ' + err.message); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [data] = (await once(child.stdout, 'data')) as [Buffer];
  if (!data.toString().startsWith('open')) throw new Error(`the other process could not open ${file}: ${data.toString()}`);
  return child;
}

export async function releaseHeldFile(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill();
  await exited;
}
