import type pg from 'pg';
import { ensurePgDatabase, PG_HOST, PG_PORT, PG_USER, pgConnect } from '../test/helpers/postgres.js';
import { changeMix, idRanges, type LiveRange } from './shape.js';

/** The benchmark's PostgreSQL database and schema; slots and publications start with `PG_PREFIX`. */
export const PG_DB = 'ducktail_bench';
export const PG_SCHEMA = 'bench';
export const PG_PREFIX = 'ducktail_bench_';
const FLOOR_SLOT = `${PG_PREFIX}floor`;

/** A pipeline source block (ducktail.yaml) for `tables` of the benchmark database. */
export function pgSource(tables: string[]): Record<string, unknown> {
  return { kind: 'postgres', host: PG_HOST, port: PG_PORT, user: PG_USER, database: PG_DB, tables: tables.map((t) => `${PG_SCHEMA}.${t}`) };
}

/** A connection to the benchmark database (created if missing), with leftovers of an interrupted run dropped. */
export async function pgBenchConnect(): Promise<pg.Client> {
  await ensurePgDatabase(PG_DB);
  const client = await pgConnect(PG_DB);
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${PG_SCHEMA}`);
  return client;
}

/**
 * Drops the slots and publications whose names start with `prefix` (every benchmark one by
 * default), ending the walsenders that hold them. `starts_with`, not LIKE, whose `_` would
 * match other people's names too.
 */
export async function dropPgBenchReplication(client: pg.Client, prefix = PG_PREFIX): Promise<void> {
  await client.query(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE starts_with(slot_name, $1) AND active_pid IS NOT NULL`, [prefix]);
  for (let attempt = 0; ; attempt++) {
    try {
      await client.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE starts_with(slot_name, $1)`, [prefix]);
      break;
    } catch (err) {
      if (attempt >= 20) throw err; // a terminated walsender may hold its slot a moment longer
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const pubs = await client.query<{ pubname: string }>(`SELECT pubname FROM pg_publication WHERE starts_with(pubname, $1)`, [prefix]);
  for (const { pubname } of pubs.rows) await client.query(`DROP PUBLICATION IF EXISTS "${pubname}"`);
}

const ROW = (g: string): string =>
  `${g}, 'item-' || ${g}, (${g} % 100000) * 0.01, timestamptz '2026-01-01 00:00:00+00' + ${g} * interval '1 second', ` +
  `jsonb_build_object('id', ${g}, 'tags', jsonb_build_array('a', 'b'), 'note', 'text ' || ${g})`;

/** (Re)creates an empty items table: text, numeric, timestamptz and jsonb columns. */
export async function createItems(client: pg.Client, table: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${PG_SCHEMA}.${table}`);
  await client.query(`CREATE TABLE ${PG_SCHEMA}.${table} (id bigint PRIMARY KEY, name text, price numeric(12,2), at timestamptz, doc jsonb)`);
}

export async function dropItems(client: pg.Client, table: string): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${PG_SCHEMA}.${table}`);
}

/** The names of `count` narrow tables (`wide_001`…), for a pipeline of many tables. */
export function wideTableNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `wide_${String(i + 1).padStart(3, '0')}`);
}

/** (Re)creates each of `tables` (bigint key, text, integer, timestamptz) with rows 1..`rows`, then VACUUM ANALYZE. */
export async function createWideTables(client: pg.Client, tables: string[], rows: number): Promise<void> {
  for (const table of tables) {
    await client.query(`DROP TABLE IF EXISTS ${PG_SCHEMA}.${table}`);
    await client.query(`CREATE TABLE ${PG_SCHEMA}.${table} (id bigint PRIMARY KEY, name text, qty integer, at timestamptz)`);
    await client.query(
      `INSERT INTO ${PG_SCHEMA}.${table} SELECT g, 'row-' || g, g % 1000, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second' FROM generate_series(1, $1::bigint) g`,
      [rows],
    );
    await client.query(`VACUUM ANALYZE ${PG_SCHEMA}.${table}`);
  }
}

export async function dropWideTables(client: pg.Client, tables: string[]): Promise<void> {
  for (const table of tables) await client.query(`DROP TABLE IF EXISTS ${PG_SCHEMA}.${table}`);
}

async function insertRange(client: pg.Client, table: string, [from, to]: [number, number]): Promise<void> {
  if (from > to) return;
  await client.query(`INSERT INTO ${PG_SCHEMA}.${table} SELECT ${ROW('g')} FROM generate_series($1::bigint, $2::bigint) g`, [from, to]);
}

async function updateRange(client: pg.Client, table: string, [from, to]: [number, number]): Promise<void> {
  if (from > to) return;
  await client.query(
    `UPDATE ${PG_SCHEMA}.${table} SET price = price + 1, at = at + interval '1 day', doc = doc || '{"updated": true}' WHERE id BETWEEN $1 AND $2`,
    [from, to],
  );
}

async function deleteRange(client: pg.Client, table: string, [from, to]: [number, number]): Promise<void> {
  if (from > to) return;
  await client.query(`DELETE FROM ${PG_SCHEMA}.${table} WHERE id BETWEEN $1 AND $2`, [from, to]);
}

/** Rows 1..`rows`, in statements of 100k rows, then VACUUM ANALYZE. */
export async function fillItems(client: pg.Client, table: string, rows: number): Promise<void> {
  for (const range of idRanges(1, rows, 100_000)) await insertRange(client, table, range);
  await client.query(`VACUUM ANALYZE ${PG_SCHEMA}.${table}`);
}

/**
 * A backlog of `changes` changes in the shape's mix on an empty table, each statement (10k rows)
 * its own transaction: ids 1..inserts inserted, the first `updates` of them updated, the next
 * `deletes` deleted.
 */
export async function writeBacklog(client: pg.Client, table: string, changes: number): Promise<void> {
  const mix = changeMix(changes);
  for (const range of idRanges(1, mix.inserts)) await insertRange(client, table, range);
  for (const range of idRanges(1, mix.updates)) await updateRange(client, table, range);
  for (const range of idRanges(mix.updates + 1, mix.updates + mix.deletes)) await deleteRange(client, table, range);
}

/** One transaction inserting rows 1..`rows` (a single statement). */
export async function writeOneTransaction(client: pg.Client, table: string, rows: number): Promise<void> {
  await insertRange(client, table, [1, rows]);
}

/** One transaction of `changes` changes in the shape's mix, on the live rows `live` tracks. */
export async function writeTick(client: pg.Client, table: string, live: LiveRange, changes: number): Promise<void> {
  const t = live.take(changes);
  await client.query('BEGIN');
  try {
    await deleteRange(client, table, t.delete);
    await updateRange(client, table, t.update);
    await insertRange(client, table, t.insert);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** A slot that sees the changes made after this call, for `pgDecodeFloor`; `drop` removes it. */
export async function createFloorSlot(client: pg.Client): Promise<{ slot: string; drop(): Promise<void> }> {
  await dropPgBenchReplication(client, FLOOR_SLOT);
  await client.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [FLOOR_SLOT]);
  return { slot: FLOOR_SLOT, drop: () => dropPgBenchReplication(client, FLOOR_SLOT) };
}

/**
 * Waits until no walsender holds any of `slots`: a worker lets go of a paused pipeline's stream
 * 10 s after its last capture, and a backlog written while it still reads would be read ahead.
 */
export async function untilSlotsIdle(client: pg.Client, slots: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await client.query<{ slot_name: string }>(`SELECT slot_name FROM pg_replication_slots WHERE slot_name = ANY($1) AND active`, [slots]);
    if (rows.length === 0) return;
    if (Date.now() > deadline) throw new Error(`slots still read after ${timeoutMs / 1000} s: ${rows.map((r) => r.slot_name).join(', ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
