import type pg from 'pg';

/** The prefix of the logical decoding messages the DDL trigger writes. */
export const DDL_MESSAGE_PREFIX = 'ducktail_ddl';

const TRIGGER = 'ducktail_ddl';
const FUNCTION = '_ducktail.emit_ddl';

/** One column as the DDL trigger describes it (the `pg_attribute` facts `PgCatalog.build` uses). */
export interface DdlColumn {
  attname: string;
  attnum: number;
  atttypid: number;
  atttypmod: number;
  attndims: number;
  atthasmissing: boolean;
  missing: string | null;
  has_default: boolean;
}

/** What a DDL message says: a table's shape right after a DDL statement changed it. */
export interface DdlMessage {
  oid: number;
  schema: string;
  table: string;
  columns: DdlColumn[];
  primaryKey: string[];
  /** Columns this DDL renamed (same column number, new name). */
  renames?: { from: string; to: string }[];
}

/**
 * PostgreSQL's logical decoding carries no DDL: a table's new shape reaches the stream only with
 * its next row change, and the catalog, read then, may have moved on (a column added and renamed
 * or dropped again before the capture reads it). This event trigger writes, in the same
 * transaction as each DDL statement on a table, a logical decoding message with the table's
 * columns, their numbers, the values rows older than a column read (`attmissingval`) and the
 * columns it renamed (it remembers each table's column names by number in `_ducktail.columns`),
 * so the capture sees every shape at its exact place in the stream.
 *
 * SECURITY DEFINER, because `pg_logical_emit_message` needs REPLICATION. No EXCEPTION block: it
 * would run the body in a subtransaction, and pgoutput then delivers the message after row changes
 * that follow the DDL in the same transaction (seen on PostgreSQL 15); it writes nothing unless
 * `wal_level` is logical, so it cannot fail a user's DDL. Creating an event trigger takes a superuser.
 */
export const DDL_TRIGGER_SQL = `CREATE SCHEMA IF NOT EXISTS _ducktail;
-- The names columns had at the last DDL the trigger saw, by column number: a rename is a number
-- whose name changed. Seeded with every table now, so the first rename after installing is seen too.
CREATE TABLE IF NOT EXISTS _ducktail.columns (rel oid NOT NULL, attnum int2 NOT NULL, attname name NOT NULL, PRIMARY KEY (rel, attnum));
INSERT INTO _ducktail.columns
  SELECT a.attrelid, a.attnum, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
   WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
     AND c.relnamespace NOT IN (SELECT oid FROM pg_namespace WHERE nspname IN ('pg_catalog', 'information_schema', '_ducktail'))
  ON CONFLICT DO NOTHING;
CREATE OR REPLACE FUNCTION ${FUNCTION}() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
DECLARE
  cmd record;
  msg text;
  renames json;
BEGIN
  IF current_setting('wal_level') <> 'logical' THEN
    RETURN;
  END IF;
  FOR cmd IN SELECT objid AS rel, bool_or(command_tag = 'CREATE TABLE') AS created FROM pg_event_trigger_ddl_commands()
              WHERE classid = 'pg_class'::regclass GROUP BY objid LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = cmd.rel AND relkind IN ('r', 'p')) THEN
      CONTINUE;
    END IF;
    IF cmd.created THEN
      DELETE FROM _ducktail.columns WHERE rel = cmd.rel; -- a reused table OID
    END IF;
    SELECT json_agg(json_build_object('from', h.attname, 'to', a.attname) ORDER BY a.attnum) INTO renames
      FROM _ducktail.columns h JOIN pg_attribute a ON a.attrelid = h.rel AND a.attnum = h.attnum
     WHERE h.rel = cmd.rel AND NOT a.attisdropped AND a.attname <> h.attname;
    DELETE FROM _ducktail.columns WHERE rel = cmd.rel;
    INSERT INTO _ducktail.columns SELECT attrelid, attnum, attname FROM pg_attribute WHERE attrelid = cmd.rel AND attnum > 0 AND NOT attisdropped;
    SELECT json_build_object(
      'oid', c.oid::bigint, 'schema', n.nspname, 'table', c.relname,
      'columns', COALESCE((SELECT json_agg(json_build_object(
          'attname', a.attname, 'attnum', a.attnum, 'atttypid', a.atttypid::bigint, 'atttypmod', a.atttypmod, 'attndims', a.attndims,
          'atthasmissing', a.atthasmissing, 'missing', a.attmissingval::text, 'has_default', a.atthasdef OR a.attidentity <> '')
          ORDER BY a.attnum)
        FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''), '[]'::json),
      'primaryKey', COALESCE((SELECT json_agg(a.attname ORDER BY k.ord)
        FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord), pg_attribute a
        WHERE i.indrelid = c.oid AND i.indisprimary AND a.attrelid = c.oid AND a.attnum = k.attnum), '[]'::json),
      'renames', COALESCE(renames, '[]'::json))::text
    INTO msg
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = cmd.rel;
    PERFORM pg_logical_emit_message(true, '${DDL_MESSAGE_PREFIX}', msg);
  END LOOP;
END
$fn$;
DO $do$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = '${TRIGGER}') THEN
    CREATE EVENT TRIGGER ${TRIGGER} ON ddl_command_end EXECUTE FUNCTION ${FUNCTION}();
  END IF;
END $do$;`;

/** The warning when the trigger is not installed (the user is not a superuser and no admin installed it). */
export const DDL_TRIGGER_MISSING =
  'schema changes are read from the catalog when their first row change streams past: a column changed again before ' +
  'then (e.g. added and renamed within the stream\'s lag) may leave its table needing a re-sync. For exact schema ' +
  'history, have a superuser run the SQL `ducktail ddl-trigger` prints, once in this database';

/** SQL that removes the trigger (when no pipeline uses this database any more). */
export const DROP_DDL_TRIGGER_SQL = `DROP EVENT TRIGGER IF EXISTS ${TRIGGER}; DROP FUNCTION IF EXISTS ${FUNCTION}(); DROP TABLE IF EXISTS _ducktail.columns;`;

/** Whether the trigger is installed and enabled in the connected database. */
export async function ddlTriggerInstalled(client: pg.Client): Promise<boolean> {
  const res = await client.query("SELECT 1 FROM pg_event_trigger WHERE evtname = $1 AND evtenabled <> 'D'", [TRIGGER]);
  return (res.rowCount ?? 0) > 0;
}

/** Installs (or refreshes) the trigger when the user is a superuser; returns whether it is installed. */
export async function ensureDdlTrigger(client: pg.Client): Promise<boolean> {
  const su = await client.query<{ su: boolean }>('SELECT rolsuper AS su FROM pg_roles WHERE rolname = current_user');
  if (su.rows[0]?.su === true) await client.query(DDL_TRIGGER_SQL);
  return ddlTriggerInstalled(client);
}

/**
 * Parses a DDL message's content; null when it is another tool's message. Throws when one of ours
 * cannot be read: silently skipping it would apply a schema change at the wrong place.
 */
export function parseDdlMessage(prefix: string, content: Uint8Array | string): DdlMessage | null {
  if (prefix !== DDL_MESSAGE_PREFIX) return null;
  const text = typeof content === 'string' ? content : Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('utf8');
  let m: DdlMessage | undefined;
  try {
    m = JSON.parse(text) as DdlMessage;
  } catch {
    m = undefined;
  }
  if (m === undefined || typeof m.oid !== 'number' || !Array.isArray(m.columns)) {
    throw new Error(`a ${DDL_MESSAGE_PREFIX} message in the stream could not be read (${text.slice(0, 60)}…)`);
  }
  return m;
}
