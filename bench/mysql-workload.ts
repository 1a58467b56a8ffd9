import type { ConnectionOptions } from 'mysql2';
import type { Connection } from 'mysql2/promise';
import { binlogEnd, MY_HOST, MY_PORT, MY_USER, myConnect } from '../test/helpers/mysql.js';
import type { BinlogRange } from './floors.js';
import { changeMix, idRanges } from './shape.js';

/** The benchmark's MariaDB database (dropped at the end of a run). */
export const MY_DB = 'ducktail_bench_my';

/** Connection options for the floors' own connections. */
export const MY_CONNECTION: ConnectionOptions = { host: MY_HOST, port: MY_PORT, user: MY_USER, timezone: 'Z' };

/** A replica server id for the zongji floor, apart from the ids pipelines derive from their names. */
export const FLOOR_SERVER_ID = 1_900_000_000 + (process.pid % 1_000_000);

/** A pipeline source block (ducktail.yaml) for `tables` of the benchmark database. */
export function mysqlSource(tables: string[]): Record<string, unknown> {
  return { kind: 'mysql', host: MY_HOST, port: MY_PORT, user: MY_USER, tables: tables.map((t) => `${MY_DB}.${t}`) };
}

/** A connection to the benchmark database (created if missing), session time zone UTC. */
export function mysqlBenchConnect(): Promise<Connection> {
  return myConnect(MY_DB);
}

/** The same columns as the PostgreSQL table; rows come from MariaDB's SEQUENCE engine (`seq_1_to_N`). */
const ROW =
  "seq, CONCAT('item-', seq), (seq % 100000) * 0.01, TIMESTAMP'2026-01-01 00:00:00' + INTERVAL seq SECOND, " +
  "JSON_OBJECT('id', seq, 'tags', JSON_ARRAY('a', 'b'), 'note', CONCAT('text ', seq))";

export async function createItems(conn: Connection, table: string): Promise<void> {
  await conn.query(`DROP TABLE IF EXISTS ${MY_DB}.${table}`);
  await conn.query(`CREATE TABLE ${MY_DB}.${table} (id BIGINT PRIMARY KEY, name TEXT, price DECIMAL(12,2), at TIMESTAMP(6) NULL, doc JSON)`);
}

async function insertRange(conn: Connection, table: string, [from, to]: [number, number]): Promise<void> {
  await conn.query(`INSERT INTO ${MY_DB}.${table} SELECT ${ROW} FROM seq_${from}_to_${to}`);
}

/** Rows 1..`rows`, in statements of 100k rows. */
export async function fillItems(conn: Connection, table: string, rows: number): Promise<void> {
  for (const range of idRanges(1, rows, 100_000)) await insertRange(conn, table, range);
}

/** The PostgreSQL backlog's twin (see pg-workload.ts `writeBacklog`); returns the binlog range it wrote. */
export async function writeBacklog(conn: Connection, table: string, changes: number): Promise<{ from: BinlogRange; to: BinlogRange }> {
  const mix = changeMix(changes);
  const from = await binlogEnd(conn);
  for (const range of idRanges(1, mix.inserts)) await insertRange(conn, table, range);
  for (const [a, b] of idRanges(1, mix.updates)) {
    await conn.query(
      `UPDATE ${MY_DB}.${table} SET price = price + 1, at = at + INTERVAL 1 DAY, doc = JSON_SET(doc, '$.updated', true) WHERE id BETWEEN ? AND ?`,
      [a, b],
    );
  }
  for (const [a, b] of idRanges(mix.updates + 1, mix.updates + mix.deletes)) {
    await conn.query(`DELETE FROM ${MY_DB}.${table} WHERE id BETWEEN ? AND ?`, [a, b]);
  }
  return { from, to: await binlogEnd(conn) };
}
