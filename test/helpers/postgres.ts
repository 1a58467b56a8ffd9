import pg from 'pg';

export const PG_HOST = process.env.PGHOST ?? '127.0.0.1';
export const PG_PORT = Number(process.env.PGPORT ?? 5432);
export const PG_USER = process.env.PGUSER ?? 'postgres';

export async function pgConnect(database = 'postgres'): Promise<pg.Client> {
  const client = new pg.Client({ host: PG_HOST, port: PG_PORT, user: PG_USER, database });
  await client.connect();
  return client;
}

/** Creates `database` if missing. */
export async function ensurePgDatabase(database: string): Promise<void> {
  const admin = await pgConnect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
}

/** Drops replication slots and publications whose names start with `prefix` (terminating their walsenders). */
export async function dropPgReplication(client: pg.Client, prefix: string): Promise<void> {
  await client.query(
    `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name LIKE $1 || '%' AND active_pid IS NOT NULL`,
    [prefix],
  );
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      await client.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE $1 || '%'`, [prefix]);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const pubs = await client.query<{ pubname: string }>(`SELECT pubname FROM pg_publication WHERE pubname LIKE $1 || '%'`, [prefix]);
  for (const { pubname } of pubs.rows) await client.query(`DROP PUBLICATION IF EXISTS "${pubname}"`);
}
