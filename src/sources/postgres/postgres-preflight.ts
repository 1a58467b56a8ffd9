import type pg from 'pg';
import { NoPrimaryKeyError, PrivilegeError, SourceSettingError } from '../../errors.js';
import type { PipelineSpec, PostgresSourceSpec } from '../../model/pipeline-spec.js';
import type { PreflightReport } from '../source-connector.js';
import type { PgCatalog} from './postgres-catalog.js';
import { type CatalogTable } from './postgres-catalog.js';
import { walLevelError } from './postgres-errors.js';
import { TableSelection } from './postgres-tables.js';

/** Throws unless logical decoding is on. */
export function checkWalLevel(walLevel: string): void {
  if (walLevel !== 'logical') throw walLevelError(`PostgreSQL has wal_level = ${walLevel}; change capture needs logical`);
}

/** Throws when the slot does not exist yet and every replication slot is taken. */
export function checkSlotCapacity(slotExists: boolean, used: number, max: number): void {
  if (slotExists || used < max) return;
  throw new SourceSettingError(
    `all ${max} replication slots are in use (max_replication_slots = ${max})`,
    'drop unused slots (SELECT pg_drop_replication_slot(name)) or raise max_replication_slots and restart PostgreSQL',
  );
}

/** Facts about one table that decide whether it can be captured. */
export interface TableFacts {
  table: string;
  primaryKey: string[];
  /** `pg_class.relreplident`. */
  replicaIdentity: string;
}

/**
 * Throws for a table that cannot be captured as configured. Unchanged TOASTed values under
 * REPLICA IDENTITY DEFAULT need no warning: MERGE keeps the loaded value, APPEND carries it from
 * the previous row.
 */
export function checkTable(t: TableFacts, spec: Pick<PipelineSpec, 'mode' | 'keyless'>): void {
  const keyless = t.primaryKey.length === 0;
  if (keyless && spec.mode === 'merge' && spec.keyless === 'error') {
    throw new NoPrimaryKeyError(
      `table ${t.table} has no primary key, so it cannot be merged`,
      'add a primary key, or set keyless: append to write it as an audit log',
    );
  }
  if (t.replicaIdentity === 'n') {
    throw new SourceSettingError(
      `table ${t.table} has REPLICA IDENTITY NOTHING: once published, its UPDATEs and DELETEs fail`,
      `ALTER TABLE ${t.table} REPLICA IDENTITY DEFAULT (with a primary key) or REPLICA IDENTITY FULL`,
    );
  }
  if (keyless && t.replicaIdentity === 'd') {
    throw new SourceSettingError(
      `table ${t.table} has no primary key and REPLICA IDENTITY DEFAULT: once published, its UPDATEs and DELETEs fail`,
      `ALTER TABLE ${t.table} REPLICA IDENTITY FULL (or add a primary key)`,
    );
  }
}

/** Checks settings, privileges and tables without changing anything. */
export async function runPreflight(client: pg.Client, spec: PipelineSpec, catalog: PgCatalog): Promise<PreflightReport> {
  const source = spec.source as PostgresSourceSpec;
  const settings = await client.query<{ wal_level: string; max_slots: string; used: string; slot: boolean; super: boolean; repl: boolean; can_create: boolean; pub: boolean }>(
    `SELECT current_setting('wal_level') AS wal_level, current_setting('max_replication_slots') AS max_slots,
            (SELECT count(*) FROM pg_replication_slots) AS used,
            EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1) AS slot,
            r.rolsuper AS super, r.rolreplication AS repl,
            has_database_privilege(current_database(), 'CREATE') AS can_create,
            EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $2) AS pub
       FROM pg_roles r WHERE r.rolname = current_user`,
    [source.slot, source.publication],
  );
  const s = settings.rows[0];
  if (s === undefined) throw new Error('could not read the current role');
  checkWalLevel(s.wal_level);
  checkSlotCapacity(s.slot, Number(s.used), Number(s.max_slots));
  if (!s.super && !s.repl) {
    throw new PrivilegeError(`user ${source.user} lacks the REPLICATION attribute`, `ALTER ROLE ${source.user} REPLICATION`);
  }
  if (!s.pub && !s.super && !s.can_create) {
    throw new PrivilegeError(
      `user ${source.user} cannot create publication ${source.publication}`,
      `GRANT CREATE ON DATABASE ${source.database} TO ${source.user}, or create the publication as its owner`,
    );
  }
  const selection = new TableSelection(source.tables);
  if (selection.schemas.length > 0 && !s.pub && !s.super) {
    throw new PrivilegeError(
      `publishing every table of a schema (${selection.schemas.join(', ')}.*) needs a superuser in PostgreSQL 15`,
      `have a superuser run CREATE PUBLICATION ${source.publication} FOR TABLES IN SCHEMA ${selection.schemas.join(', ')}, or list the tables`,
    );
  }
  const report: PreflightReport = { tables: [], warnings: [] };
  const refs = await selection.expand(client);
  for (const ref of selection.schemas.filter((sch) => !refs.some((r) => r.schema === sch))) {
    report.warnings.push(`schema ${ref} has no tables yet; tables created in it later are captured`);
  }
  for (const ref of refs) {
    const table = await catalog.table(ref.schema, ref.name);
    if (table === null) continue; // dropped since expand()
    const name = `${ref.schema}.${ref.name}`;
    await checkTableAccess(client, table, name, source.user);
    checkTable({ table: name, primaryKey: table.primaryKey, replicaIdentity: table.replicaIdentity }, spec);
    report.tables.push((await catalog.build(name, table.oid, table.columns, table.primaryKey)).schema);
  }
  return report;
}

async function checkTableAccess(client: pg.Client, table: CatalogTable, name: string, user: string): Promise<void> {
  const res = await client.query<{ sel: boolean }>("SELECT has_table_privilege($1::oid, 'SELECT') AS sel", [table.oid]);
  if (res.rows[0]?.sel !== true) throw new PrivilegeError(`user ${user} cannot read ${name}`, `GRANT SELECT ON ${name} TO ${user}`);
}
