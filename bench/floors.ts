import type pg from 'pg';

/** Seconds for `fn`. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, value };
}

/**
 * Capture floor: PostgreSQL decoding the same changes with pgoutput and nothing else
 * (`pg_logical_slot_peek_binary_changes` over a slot created before the changes).
 */
export async function pgDecodeFloor(client: pg.Client, slot: string, publication: string): Promise<{ seconds: number; messages: number }> {
  const { seconds, value } = await timed(() =>
    client.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_logical_slot_peek_binary_changes($1, NULL, NULL, 'proto_version', '1', 'publication_names', $2)`,
      [slot, publication],
    ),
  );
  return { seconds, messages: Number(value.rows[0]?.n ?? 0) };
}

/** Snapshot floor: every row read over the wire as text (what a snapshot must at least do). */
export async function pgCopyFloor(client: pg.Client, table: string): Promise<{ seconds: number; rows: number }> {
  const { seconds, value } = await timed(async () => {
    const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM (SELECT * FROM ${table}) t`);
    await client.query({ text: `SELECT * FROM ${table}`, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
    return Number(r.rows[0]?.n ?? 0);
  });
  return { seconds, rows: value };
}
