import type { Connection } from 'mysql2/promise';
import { queryRows } from './mysql-connection.js';

/**
 * A consistent-snapshot transaction holds a metadata lock on every table it has read until it
 * ends, so an ALTER of such a table waits for the whole initial copy, and every query of the
 * table queued behind the ALTER waits too. The snapshot gives way instead: this finds the
 * statements waiting for a metadata lock on one of `tables` (`db.table`). PROCESSLIST shows other
 * users' sessions only with the PROCESS privilege; without it nothing is found.
 */
export async function statementsWaitingFor(conn: Connection, tables: Iterable<string>): Promise<string[]> {
  const waiting = await queryRows<{ INFO: string | null }>(
    conn,
    `SELECT INFO FROM information_schema.PROCESSLIST WHERE STATE = 'Waiting for table metadata lock' AND ID <> CONNECTION_ID()`,
  );
  const names = [...tables];
  return waiting.map((w) => w.INFO ?? '').filter((sql) => names.some((t) => mentionsTable(sql, t)));
}

/** Whether `sql` names `table` (`db.table`) by its table name, quoted or not (ASCII case-insensitive). Pure. */
export function mentionsTable(sql: string, table: string): boolean {
  const name = table.slice(table.indexOf('.') + 1);
  const word = /^[A-Za-z0-9_$]+$/.test(name);
  const lower = sql.toLowerCase();
  const quoted = '`' + name.toLowerCase().replaceAll('`', '``') + '`';
  if (lower.includes(quoted)) return true;
  if (!word) return false;
  const escaped = name.toLowerCase().replace(/\$/g, '\\$');
  return new RegExp(`(^|[^a-z0-9_$\`])${escaped}([^a-z0-9_$\`]|$)`).test(lower);
}
