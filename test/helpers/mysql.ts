import mysql, { type Connection } from 'mysql2/promise';
import { parsePipelineSpec } from '../../src/config/load-config.js';
import type { DuckDBPipelineSpec } from '../../src/model/pipeline-spec.js';
import { fileSpec } from './pipelines.js';

export const MY_HOST = process.env.MYSQL_HOST ?? '127.0.0.1';
export const MY_PORT = Number(process.env.MYSQL_PORT ?? 3306);
export const MY_USER = process.env.MYSQL_USER ?? 'root';

/** The database the MySQL/MariaDB end-to-end tests own (they drop and create their tables in it). */
export const MY_E2E_DB = 'ducktail_e2e_my';

/**
 * Unique to this test process: tables, databases and pipeline names carry it, so two runs of the
 * suite against the same server (two engineers, two checkouts) never touch each other's tables.
 */
export const RUN_ID = process.pid.toString(36);

let serverIds = 0;

/**
 * A binlog replica server id no concurrent run uses: a server drops the older of two binlog
 * readers with the same id. Above the range ducktail derives from pipeline names.
 */
export function uniqueServerId(): number {
  return 2_000_000_000 + (process.pid % 1_000_000) * 100 + (++serverIds % 100);
}

/**
 * A connection to the local MariaDB/MySQL with `database` created if missing and selected.
 * Session time zone UTC, so TIMESTAMP literals and expressions in tests mean UTC.
 */
export async function myConnect(database = MY_E2E_DB): Promise<Connection> {
  const conn = await mysql.createConnection({ host: MY_HOST, port: MY_PORT, user: MY_USER, multipleStatements: true, charset: 'utf8mb4' });
  await conn.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4`);
  await conn.query(`USE \`${database}\``);
  await conn.query("SET time_zone = '+00:00'");
  return conn;
}

/** Drops and recreates `database` (empty). */
export async function resetMyDatabase(conn: Connection, database: string): Promise<void> {
  await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await conn.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`);
}

/** Rows of `sql` as arrays of text (`NULL` for SQL NULL); select text (CAST … AS CHAR) for exact values. */
export async function myTextRows(conn: Connection, sql: string, params: unknown[] = []): Promise<string[][]> {
  const [rows] = await conn.query({ sql, rowsAsArray: true }, params);
  return (rows as unknown[][]).map((row) => row.map(asText));
}

/** The current end of the binary log (`SHOW MASTER STATUS`; MySQL 8.4: `SHOW BINARY LOG STATUS`). */
export async function binlogEnd(conn: Connection): Promise<{ file: string; pos: number }> {
  const [rows] = await conn.query('SHOW MASTER STATUS').catch(() => conn.query('SHOW BINARY LOG STATUS'));
  const row = (rows as { File?: string; Position?: number | string }[])[0];
  if (row?.File === undefined) throw new Error('the binary log is off (SHOW MASTER STATUS is empty): run npm run setup');
  return { file: row.File, pos: Number(row.Position) };
}

/** A MySQL/MariaDB pipeline spec for tests (small batches so several cycles run), like `pgSpec`. */
export function mysqlSpec(name: string, tables: string[], duckdbPath: string, extra: Record<string, unknown> = {}): DuckDBPipelineSpec {
  return fileSpec(parsePipelineSpec({
    name,
    source: { kind: 'mysql', host: MY_HOST, port: MY_PORT, user: MY_USER, tables, serverId: uniqueServerId() },
    destination: { path: duckdbPath },
    batch: { maxRows: 200, maxWaitMs: 200, idleWaitMs: 500 },
    snapshot: { enabled: true, chunkRows: 150 },
    ...extra,
  }));
}

export function asText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
}
