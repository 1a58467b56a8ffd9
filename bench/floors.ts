/**
 * Floors: the least work the sources do to hand over the same data, measured in the same run on
 * the same data, so a pipeline's throughput reads as a ratio that machine noise mostly cancels.
 */
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
