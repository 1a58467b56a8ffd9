import type { Connection as CoreConnection } from 'mysql2';
import mysql, { type Connection, type ConnectionOptions, type RowDataPacket } from 'mysql2/promise';
import type { MysqlSourceSpec } from '../../model/pipeline-spec.js';
import type { MysqlPosition } from '../../model/position.js';
import { toDucktailError } from './mysql-errors.js';
import type { ErrorContext } from '../source-errors.js';

/**
 * Connection options shared by queries and the binlog reader: values stay exact text
 * (`dateStrings`, big numbers as strings, DECIMAL as strings, JSON as text) and TIMESTAMPs are
 * read in UTC. zongji applies the same options to binlog row values.
 */
export function connectionOptions(spec: MysqlSourceSpec, password: string | undefined): ConnectionOptions {
  return {
    host: spec.host,
    port: spec.port,
    user: spec.user,
    password,
    charset: 'utf8mb4',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    jsonStrings: true,
    timezone: 'Z',
    connectTimeout: 10_000,
  };
}

export function errorContext(spec: MysqlSourceSpec): ErrorContext {
  return { endpoint: `${spec.host}:${spec.port}`, user: spec.user };
}

/** Opens a query connection whose session reads TIMESTAMPs as UTC. */
export async function openConnection(options: ConnectionOptions, ctx: ErrorContext): Promise<Connection> {
  let conn: Connection | undefined;
  try {
    conn = await mysql.createConnection(options);
    // A fatal error on an idle connection is emitted, not thrown: without a listener it would crash the worker.
    conn.on('error', () => undefined);
    await conn.query("SET time_zone = '+00:00'");
    return conn;
  } catch (err) {
    conn?.destroy();
    throw toDucktailError(err, ctx);
  }
}

/** The callback-style connection under a promise one (for streaming queries). */
export function coreOf(conn: Connection): CoreConnection {
  return (conn as unknown as { connection: CoreConnection }).connection;
}

/** False once the server or the network closed the connection. */
export function isUsable(conn: Connection): boolean {
  const core = coreOf(conn) as CoreConnection & { _fatalError?: unknown; _closing?: boolean };
  return core._fatalError == null && core._closing !== true && core.state !== 'disconnected';
}

/** Runs a query that returns rows, as plain objects. */
export async function queryRows<T>(conn: Connection, sql: string, params: unknown[] = []): Promise<T[]> {
  const [rows] = await conn.query<RowDataPacket[]>(sql, params);
  return rows as unknown as T[];
}

/** True for MariaDB (GTID positions `domain-server-seq`, `binlog_snapshot_*` status). */
export async function isMariadb(conn: Connection): Promise<boolean> {
  const [row] = await queryRows<{ v: string }>(conn, 'SELECT VERSION() AS v');
  return /mariadb/i.test(row?.v ?? '');
}

/**
 * The end of the binary log now (`SHOW MASTER STATUS`; MySQL 8.4 only knows
 * `SHOW BINARY LOG STATUS`), with the server's executed GTIDs when it has them.
 */
export async function readBinlogEnd(conn: Connection): Promise<MysqlPosition> {
  let rows: Record<string, unknown>[];
  try {
    rows = await queryRows(conn, 'SHOW MASTER STATUS');
  } catch {
    rows = await queryRows(conn, 'SHOW BINARY LOG STATUS');
  }
  const row = rows[0];
  if (row === undefined || typeof row.File !== 'string') {
    throw new Error('the server reports no binary log (SHOW MASTER STATUS is empty): is log_bin on?');
  }
  const position: MysqlPosition = { kind: 'mysql', file: row.File, pos: Number(row.Position) };
  const gtid = await readGtid(conn, row);
  if (gtid !== undefined && gtid !== '') position.gtid = gtid;
  return position;
}

async function readGtid(conn: Connection, status: Record<string, unknown>): Promise<string | undefined> {
  if (typeof status.Executed_Gtid_Set === 'string') return status.Executed_Gtid_Set.replace(/\s+/g, '');
  try {
    const [row] = await queryRows<{ g: string | null }>(conn, 'SELECT @@GLOBAL.gtid_binlog_pos AS g');
    return row?.g ?? undefined;
  } catch {
    return undefined; // MySQL without gtid_mode: no GTIDs to record
  }
}

/** Quotes an identifier with backticks. */
export function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** `db.table` → `` `db`.`table` ``. */
export function quoteTable(table: string): string {
  const dot = table.indexOf('.');
  return `${quoteIdent(table.slice(0, dot))}.${quoteIdent(table.slice(dot + 1))}`;
}
