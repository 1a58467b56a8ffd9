/**
 * Floors: the least work the sources do to hand over the same data, measured in the same run on
 * the same data, so a pipeline's throughput reads as a ratio that machine noise mostly cancels.
 */
import ZongJi, { type AnyBinlogEvent } from '@vlasky/zongji';
import mysql from 'mysql2';
import type pg from 'pg';

export interface Floor {
  seconds: number;
  /** What the floor read: pgoutput messages, binlog rows, or table rows. */
  items: number;
}

/** Seconds for `fn`. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

/**
 * PostgreSQL decoding the changes with pgoutput and nothing else: `pg_logical_slot_peek_binary_changes`
 * over a slot created before the changes (it counts messages, BEGIN/COMMIT/RELATION included).
 */
export async function pgDecodeFloor(client: pg.Client, slot: string, publication: string): Promise<Floor> {
  const { seconds, value } = await timed(() =>
    client.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_logical_slot_peek_binary_changes($1, NULL, NULL, 'proto_version', '1', 'publication_names', $2)`,
      [slot, publication],
    ),
  );
  return { seconds, items: Number(value.rows[0]?.n ?? 0) };
}

/** PostgreSQL sending every row of `table` over the wire as text, in one query (what a snapshot must at least do). */
export async function pgReadFloor(client: pg.Client, table: string): Promise<Floor> {
  const { seconds, value } = await timed(() =>
    client.query({ text: `SELECT * FROM ${table}`, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } }),
  );
  return { seconds, items: value.rowCount ?? 0 };
}

/** `pgReadFloor` over each of `tables` in turn, summed. */
export async function pgReadTablesFloor(client: pg.Client, tables: string[]): Promise<Floor> {
  const floor: Floor = { seconds: 0, items: 0 };
  for (const table of tables) {
    const { seconds, items } = await pgReadFloor(client, table);
    floor.seconds += seconds;
    floor.items += items;
  }
  return floor;
}

export interface BinlogRange {
  file: string;
  pos: number;
}

/**
 * A bare zongji reading the binlog from `from` to `to` and counting the rows of the row events
 * of `database`.`table` (what any binlog capture in Node must at least do).
 */
export async function zongjiFloor(
  connection: mysql.ConnectionOptions,
  serverId: number,
  database: string,
  table: string,
  from: BinlogRange,
  to: BinlogRange,
): Promise<Floor> {
  const zongji = new ZongJi(connection);
  let file = from.file;
  let rows = 0;
  const { seconds } = await timed(
    () =>
      new Promise<void>((resolve, reject) => {
        zongji.on('error', reject);
        zongji.on('binlog', (event: AnyBinlogEvent) => {
          switch (event.getEventName()) {
            case 'rotate':
              if ('binlogName' in event) file = event.binlogName;
              return;
            case 'writerows':
            case 'updaterows':
            case 'deleterows':
              if ('rows' in event) rows += event.rows.length;
          }
          if (file === to.file && event.nextPosition >= to.pos) resolve();
        });
        zongji.start({
          serverId,
          filename: from.file,
          position: from.pos,
          includeEvents: ['rotate', 'tablemap', 'writerows', 'updaterows', 'deleterows', 'xid'],
          includeSchema: { [database]: [table] },
        });
      }),
  );
  zongji.stop();
  return { seconds, items: rows };
}

/** MySQL/MariaDB sending every row of `table` to mysql2 as text, streamed. */
export async function mysqlSelectFloor(connection: mysql.ConnectionOptions, table: string): Promise<Floor> {
  const conn = mysql.createConnection(connection);
  try {
    let rows = 0;
    const { seconds } = await timed(
      () =>
        new Promise<void>((resolve, reject) => {
          conn
            .query({ sql: `SELECT * FROM ${table}`, rowsAsArray: true, typeCast: (field) => field.string() })
            .stream()
            .on('data', () => rows++)
            .on('error', reject)
            .on('end', resolve);
        }),
    );
    return { seconds, items: rows };
  } finally {
    conn.destroy();
  }
}
