import type pg from 'pg';
import { NoPrimaryKeyError, PrivilegeError, SourceSettingError } from '../../errors.js';
import type { PipelineSpec, PostgresSourceSpec } from '../../model/pipeline-spec.js';
import type { PreflightReport } from '../source-connector.js';
import { listSelectedTables, type CatalogTable, type PgCatalog } from './postgres-catalog.js';
import { DDL_TRIGGER_MISSING, ddlTriggerInstalled } from './postgres-ddl.js';
import { walLevelError } from './postgres-errors.js';
import { quoteIdent, quoteTable } from './postgres-connection.js';
import { TableSelection, type TableRef } from '../table-selection.js';

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
  const selection = new TableSelection(source.tables);
  const report: PreflightReport = { tables: [], warnings: [] };
  const refs = await listSelectedTables(client, selection);
  if (!s.super) await checkPublicationPrivileges(client, source, selection, refs, s.pub ? null : { canCreate: s.can_create });
  if (!s.super && !(await ddlTriggerInstalled(client))) report.warnings.push(DDL_TRIGGER_MISSING);
  for (const ref of selection.wildcards.filter((sch) => !refs.some((r) => r.schema === sch))) {
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

/**
 * A non-superuser can create a publication only with CREATE on the database and ownership of every
 * table it lists, and can add tables to an existing one only as the publication's owner and the
 * tables' owner; `FOR TABLES IN SCHEMA` needs a superuser (PostgreSQL 15). Reading the tables
 * (SELECT) is not enough. Checks what `prepare` will have to do and, when the user may not, gives
 * the exact SQL an owner or admin can run instead: Ducktail then uses that publication as it is.
 * `creating` is null when the publication exists already.
 */
async function checkPublicationPrivileges(
  client: pg.Client,
  source: PostgresSourceSpec,
  selection: TableSelection,
  refs: TableRef[],
  creating: { canCreate: boolean } | null,
): Promise<void> {
  const pub = source.publication;
  const explicit = refs.filter((t) => !selection.wildcards.includes(t.schema) && selection.includes(t.schema, t.name));
  let tablesToAdd = explicit;
  let schemasToAdd = selection.wildcards;
  let pubOwner: { owner: string; owns: boolean } | null = null;
  if (creating === null) {
    const existing = await client.query<{ puballtables: boolean; owner: string; owns: boolean }>(
      `SELECT p.puballtables, pg_get_userbyid(p.pubowner) AS owner, pg_has_role(current_user, p.pubowner, 'USAGE') AS owns
         FROM pg_publication p WHERE p.pubname = $1`,
      [pub],
    );
    const row = existing.rows[0];
    if (row === undefined || row.puballtables) return;
    pubOwner = { owner: row.owner, owns: row.owns };
    const published = await client.query<{ schemaname: string; tablename: string }>('SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1', [pub]);
    const schemas = await client.query<{ nspname: string }>(
      `SELECT n.nspname FROM pg_publication_namespace pn JOIN pg_publication p ON p.oid = pn.pnpubid
        JOIN pg_namespace n ON n.oid = pn.pnnspid WHERE p.pubname = $1`,
      [pub],
    );
    tablesToAdd = explicit.filter((t) => !published.rows.some((r) => r.schemaname === t.schema && r.tablename === t.name));
    schemasToAdd = selection.wildcards.filter((x) => !schemas.rows.some((r) => r.nspname === x));
  }
  if (tablesToAdd.length === 0 && schemasToAdd.length === 0) return;

  const notOwned = await tablesNotOwned(client, tablesToAdd);
  const problems: string[] = [];
  if (creating !== null && !creating.canCreate) problems.push(`lacks CREATE on database ${source.database}`);
  if (pubOwner !== null && !pubOwner.owns) problems.push(`does not own publication ${pub} (owner: ${pubOwner.owner})`);
  if (notOwned.length > 0) problems.push(`does not own ${notOwned.map((t) => `${t.schema}.${t.name} (owner: ${t.owner})`).join(', ')}`);
  if (schemasToAdd.length > 0) problems.push(`cannot publish whole schemas (${schemasToAdd.map((x) => `${x}.*`).join(', ')}): that needs a superuser`);
  if (problems.length === 0) return;

  const parts = [
    ...(tablesToAdd.length > 0 ? [`TABLE ${tablesToAdd.map((t) => quoteTable(t.schema, t.name)).join(', ')}`] : []),
    ...(schemasToAdd.length > 0 ? [`TABLES IN SCHEMA ${schemasToAdd.map(quoteIdent).join(', ')}`] : []),
  ];
  const sql =
    creating !== null
      ? `CREATE PUBLICATION ${quoteIdent(pub)} FOR ${parts.join(', ')};`
      : parts.map((part) => `ALTER PUBLICATION ${quoteIdent(pub)} ADD ${part};`).join(' ');
  const doing = creating !== null ? `create publication ${pub}` : `add ${[...tablesToAdd.map((t) => `${t.schema}.${t.name}`), ...schemasToAdd.map((x) => `${x}.*`)].join(', ')} to publication ${pub}`;
  throw new PrivilegeError(
    `user ${source.user} may read the tables but cannot ${doing}: it ${problems.join('; ')} (PostgreSQL requires ownership of each table, or a superuser; SELECT is not enough)`,
    `have a table owner or a superuser run: ${sql} — Ducktail then uses the existing publication as it is. ` +
      `(Or make ${source.user} a member of the owning role: GRANT <owner> TO ${source.user}.)`,
  );
}

/** Tables the current user does not own (directly or through role membership). */
async function tablesNotOwned(client: pg.Client, tables: TableRef[]): Promise<(TableRef & { owner: string })[]> {
  if (tables.length === 0) return [];
  const res = await client.query<{ nspname: string; relname: string; owner: string; owns: boolean }>(
    `SELECT n.nspname, c.relname, pg_get_userbyid(c.relowner) AS owner, pg_has_role(current_user, c.relowner, 'USAGE') AS owns
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [tables.map((t) => t.schema), tables.map((t) => t.name)],
  );
  return res.rows.filter((r) => !r.owns).map((r) => ({ schema: r.nspname, name: r.relname, owner: r.owner }));
}

async function checkTableAccess(client: pg.Client, table: CatalogTable, name: string, user: string): Promise<void> {
  const res = await client.query<{ sel: boolean }>("SELECT has_table_privilege($1::oid, 'SELECT') AS sel", [table.oid]);
  if (res.rows[0]?.sel !== true) throw new PrivilegeError(`user ${user} cannot read ${name}`, `GRANT SELECT ON ${name} TO ${user}`);
}
