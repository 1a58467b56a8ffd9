import type { Connection } from 'mysql2/promise';
import { splitTableName } from '../../model/table-schema.js';
import { queryRows } from './mysql-connection.js';
import { backfillOf } from './mysql-defaults.js';
import { tableKey } from '../../model/table-name.js';
import type { TableRef, TableSelection } from '../table-selection.js';
import { mapColumn, parseColumnType, type MysqlColumn } from './mysql-types.js';

/** A table as information_schema describes it now. */
export interface TableInfo {
  table: string;
  columns: MysqlColumn[];
  primaryKey: string[];
  engine: string;
}

/** Base tables of `databases`, sorted. */
export async function listTables(conn: Connection, databases: string[]): Promise<TableRef[]> {
  if (databases.length === 0) return [];
  const rows = await queryRows<{ db: string; t: string }>(
    conn,
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES
      WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA IN (?) ORDER BY TABLE_SCHEMA, TABLE_NAME`,
    [databases],
  );
  return rows.map((r) => ({ schema: r.db, name: r.t }));
}

/** Base tables the selection includes, as `db.table` (a named table that does not exist is left out: preflight names it). */
export async function listSelectedTables(conn: Connection, sel: TableSelection): Promise<string[]> {
  return (await listTables(conn, sel.schemas)).filter((t) => sel.includes(t.schema, t.name)).map(tableKey);
}

/** Loads the current definition of `tables` (missing tables are absent from the result). */
export async function loadTables(conn: Connection, tables: string[]): Promise<Map<string, TableInfo>> {
  const result = new Map<string, TableInfo>();
  if (tables.length === 0) return result;
  const wanted = new Set(tables);
  const dbs = [...new Set(tables.map((t) => splitTableName(t).schema))];
  const cols = await queryRows<{ db: string; t: string; name: string; type: string; dflt: string | null; nullable: string; extra: string | null }>(
    conn,
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, COLUMN_NAME AS name, COLUMN_TYPE AS type,
            COLUMN_DEFAULT AS dflt, IS_NULLABLE AS nullable, EXTRA AS extra
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (?) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
    [dbs],
  );
  const keys = await queryRows<{ db: string; t: string; name: string }>(
    conn,
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, COLUMN_NAME AS name FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA IN (?) AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_SCHEMA, TABLE_NAME, SEQ_IN_INDEX`,
    [dbs],
  );
  const engines = await queryRows<{ db: string; t: string; engine: string | null }>(
    conn,
    'SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, ENGINE AS engine FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?)',
    [dbs],
  );
  const jsonChecks = await loadJsonChecks(conn, dbs);
  const engineOf = new Map(engines.map((e) => [`${e.db}.${e.t}`, e.engine ?? '']));
  for (const c of cols) {
    const table = `${c.db}.${c.t}`;
    if (!wanted.has(table)) continue;
    let info = result.get(table);
    if (info === undefined) {
      info = { table, columns: [], primaryKey: [], engine: engineOf.get(table) ?? '' };
      result.set(table, info);
    }
    const column = parseColumnType(c.name, c.type, undefined, jsonChecks.has(`${table}.${c.name}`));
    const defaults = { columnDefault: await exactDefault(conn, c), nullable: c.nullable === 'YES', extra: c.extra ?? '' };
    info.columns.push({ ...column, ...backfillOf(mapColumn(column).kind, defaults) });
  }
  for (const k of keys) result.get(`${k.db}.${k.t}`)?.primaryKey.push(k.name);
  return result;
}

/**
 * information_schema holds text as utf8mb3, so a literal default with a 4-byte character (an
 * emoji) reads as `?` there. Such a default is asked of the table itself, quoted as MariaDB
 * quotes literals; `DEFAULT(col)` of a literal is the literal (of an expression it would be
 * evaluated now, so expressions are left as they are).
 */
async function exactDefault(conn: Connection, c: { db: string; t: string; name: string; dflt: string | null; extra: string | null }): Promise<string | null> {
  if (c.dflt === null || !c.dflt.includes('?') || /DEFAULT_GENERATED/i.test(c.extra ?? '') || !/^'.*'$/s.test(c.dflt)) return c.dflt;
  const ident = (n: string): string => `\`${n.replaceAll('`', '``')}\``;
  const rows = await queryRows<{ d: string | null }>(
    conn,
    `SELECT CAST(DEFAULT(x.${ident(c.name)}) AS CHAR) AS d FROM (SELECT 1) AS one LEFT JOIN ${ident(c.db)}.${ident(c.t)} AS x ON FALSE`,
  );
  const d = rows[0]?.d;
  return typeof d === 'string' ? `'${d.replaceAll('\\', '\\\\').replaceAll("'", "''")}'` : c.dflt;
}

/**
 * MariaDB's JSON is LONGTEXT with a `json_valid(col)` CHECK; the check is the only trace of the
 * declared type. Returns `db.table.column` names. MySQL (native JSON) lacks these columns: empty.
 */
async function loadJsonChecks(conn: Connection, dbs: string[]): Promise<Set<string>> {
  try {
    const rows = await queryRows<{ db: string; t: string; clause: string }>(
      conn,
      `SELECT CONSTRAINT_SCHEMA AS db, TABLE_NAME AS t, CHECK_CLAUSE AS clause
         FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA IN (?)`,
      [dbs],
    );
    const out = new Set<string>();
    for (const r of rows) {
      const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(r.clause.trim());
      if (m !== null) out.add(`${r.db}.${r.t}.${m[1]!.replace(/``/g, '`')}`);
    }
    return out;
  } catch {
    return new Set();
  }
}
