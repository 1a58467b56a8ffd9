import type pg from 'pg';
import { PositionLostError, SourceSettingError } from '../../errors.js';
import { connectPg, quoteIdent, quoteTable } from './postgres-connection.js';
import { toDucktailError } from './postgres-errors.js';
import { parseLsn } from './postgres-position.js';
import { positionLostHint } from '../position-lost.js';
import type { TableRef, TableSelection } from '../table-selection.js';

/** A replication slot as `pg_replication_slots` shows it. */
export interface SlotInfo {
  plugin: string | null;
  database: string | null;
  confirmedFlushLsn: string | null;
  activePid: number | null;
}

/** The slot's row, or null when it does not exist. */
export async function readSlot(client: pg.Client, slot: string): Promise<SlotInfo | null> {
  const res = await client.query<{ plugin: string | null; database: string | null; confirmed_flush_lsn: string | null; active_pid: number | null }>(
    'SELECT plugin, database, confirmed_flush_lsn::text, active_pid FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  const r = res.rows[0];
  return r === undefined ? null : { plugin: r.plugin, database: r.database, confirmedFlushLsn: r.confirmed_flush_lsn, activePid: r.active_pid };
}

/** Throws when an existing slot of that name belongs to another database or plugin. */
export function checkSlotUsable(slot: string, info: SlotInfo, database: string): void {
  if (info.plugin !== 'pgoutput' || info.database !== database) {
    throw new SourceSettingError(
      `replication slot ${slot} exists but is a ${info.plugin ?? 'physical'} slot of database ${info.database ?? '(none)'}`,
      `pick another source.slot, or drop it: SELECT pg_drop_replication_slot('${slot}')`,
    );
  }
}

/**
 * Throws `PositionLostError` unless the slot can still stream everything after `ackLsn`: it must
 * exist and must not be past it (a recreated slot, or one acknowledged by someone else, has
 * discarded changes the destination never loaded).
 */
export async function checkSlotCanResume(client: pg.Client, slot: string, database: string, ackLsn: string, pipeline?: string): Promise<void> {
  const info = await readSlot(client, slot);
  if (info === null) {
    throw new PositionLostError(`replication slot ${slot} does not exist (dropped while the pipeline had loaded up to ${ackLsn})`, positionLostHint(pipeline));
  }
  checkSlotUsable(slot, info, database);
  if (info.confirmedFlushLsn !== null && parseLsn(info.confirmedFlushLsn) > parseLsn(ackLsn)) {
    throw new PositionLostError(
      `replication slot ${slot} is already at ${info.confirmedFlushLsn}, past the loaded position ${ackLsn}: changes in between are gone`,
      `the slot was recreated or acknowledged elsewhere: ${positionLostHint(pipeline)}`,
    );
  }
}

/** A slot just created; `holder` keeps its exported snapshot alive until it is closed. */
export interface CreatedSlot {
  consistentPoint: string;
  snapshotName: string | null;
  holder: pg.Client | null;
}

/**
 * Creates a pgoutput slot on a replication connection. With `exportSnapshot` the connection stays
 * open and idle (it must run nothing else) so readers can `SET TRANSACTION SNAPSHOT` to it.
 */
export async function createSlot(config: pg.ClientConfig, slot: string, exportSnapshot: boolean): Promise<CreatedSlot> {
  const client = await connectPg({ ...config, replication: 'database' } as pg.ClientConfig, 'PostgreSQL (replication)');
  try {
    const mode = exportSnapshot ? 'export' : 'nothing';
    // Simple query protocol (no parameters): the only one a replication connection accepts.
    const res = await client.query<{ consistent_point: string; snapshot_name: string | null }>(
      `CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput (SNAPSHOT '${mode}')`,
    );
    const row = res.rows[0];
    if (row === undefined) throw new Error('CREATE_REPLICATION_SLOT returned nothing');
    if (!exportSnapshot) await client.end();
    return { consistentPoint: row.consistent_point, snapshotName: row.snapshot_name, holder: exportSnapshot ? client : null };
  } catch (e) {
    await client.end().catch(() => undefined);
    throw toDucktailError(e, { doing: `creating replication slot ${slot}` });
  }
}

/**
 * Creates the publication for the selection, or adds what an existing one lacks. `schema.*`
 * entries publish the whole schema, so tables created later flow without a restart.
 */
export async function ensurePublication(client: pg.Client, publication: string, selection: TableSelection, tables: TableRef[]): Promise<string[]> {
  const explicit = tables.filter((t) => !selection.wildcards.includes(t.schema) && selection.includes(t.schema, t.name));
  const pub = await client.query<{ puballtables: boolean }>('SELECT puballtables FROM pg_publication WHERE pubname = $1', [publication]);
  const changes: string[] = [];
  try {
    if (pub.rows[0] === undefined) {
      const parts = [
        ...(explicit.length > 0 ? [`TABLE ${explicit.map((t) => quoteTable(t.schema, t.name)).join(', ')}`] : []),
        ...(selection.wildcards.length > 0 ? [`TABLES IN SCHEMA ${selection.wildcards.map(quoteIdent).join(', ')}`] : []),
      ];
      if (parts.length === 0) throw new SourceSettingError('no tables to publish', 'list tables in source.tables');
      await client.query(`CREATE PUBLICATION ${quoteIdent(publication)} FOR ${parts.join(', ')}`);
      changes.push(`created publication ${publication}`);
      return changes;
    }
    if (pub.rows[0].puballtables) return changes;
    const schemas = await client.query<{ nspname: string }>(
      `SELECT n.nspname FROM pg_publication_namespace pn JOIN pg_publication p ON p.oid = pn.pnpubid
        JOIN pg_namespace n ON n.oid = pn.pnnspid WHERE p.pubname = $1`,
      [publication],
    );
    const published = await client.query<{ schemaname: string; tablename: string }>(
      'SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1',
      [publication],
    );
    for (const s of selection.wildcards.filter((x) => !schemas.rows.some((r) => r.nspname === x))) {
      await client.query(`ALTER PUBLICATION ${quoteIdent(publication)} ADD TABLES IN SCHEMA ${quoteIdent(s)}`);
      changes.push(`added schema ${s} to publication ${publication}`);
    }
    for (const t of explicit.filter((x) => !published.rows.some((r) => r.schemaname === x.schema && r.tablename === x.name))) {
      await client.query(`ALTER PUBLICATION ${quoteIdent(publication)} ADD TABLE ${quoteTable(t.schema, t.name)}`);
      changes.push(`added ${t.schema}.${t.name} to publication ${publication}`);
    }
    return changes;
  } catch (e) {
    throw toDucktailError(e, { doing: `setting up publication ${publication}` });
  }
}

/** Drops the slot (ending a walsender still attached to it) and the publication. Idempotent. */
export async function dropSlotAndPublication(client: pg.Client, slot: string, publication: string): Promise<void> {
  await dropSlot(client, slot);
  await client.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(publication)}`);
}

/** Drops the slot, ending a walsender still attached to it. Idempotent. */
export async function dropSlot(client: pg.Client, slot: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const info = await readSlot(client, slot);
    if (info === null) break;
    if (info.activePid !== null) await client.query('SELECT pg_terminate_backend($1)', [info.activePid]);
    try {
      await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
      break;
    } catch (e) {
      // The terminated walsender may still hold the slot for a moment (55006).
      if ((e as { code?: string }).code !== '55006' || attempt >= 50) throw toDucktailError(e, { doing: `dropping slot ${slot}` });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
