import mysql from 'mysql2';
import { typeSql } from './column-types.js';
import type { Col, Stmt } from './statements.js';
import type { Val } from './values.js';

/**
 * Renders statements for MariaDB. Values are bound (`?`, escaped by mysql2: strings quoted,
 * Buffers as hex literals, booleans as 1/0); identifiers are backquoted here.
 */

export const myIdent = (name: string): string => `\`${name.replaceAll('`', '``')}\``;
export const myLiteral = (value: string): string => mysql.escape(value);

export interface MyQuery {
  sql: string;
  values: unknown[];
}

function bind(col: Col, v: Val): unknown {
  if (v === null) return null;
  if (col.type.base === 'bytes') return Buffer.from(v, 'hex');
  if (col.type.base === 'bool') return v === 'true' ? 1 : 0;
  return v;
}

function keyMatch(key: Col[], keys: Val[][], values: unknown[]): string {
  if (key.length === 1) {
    for (const k of keys) values.push(bind(key[0]!, k[0] ?? null));
    return `${myIdent(key[0]!.name)} IN (${keys.map(() => '?').join(', ')})`;
  }
  for (const k of keys) key.forEach((c, i) => values.push(bind(c, k[i] ?? null)));
  const tuple = `(${key.map(() => '?').join(', ')})`;
  return `(${key.map((c) => myIdent(c.name)).join(', ')}) IN (${keys.map(() => tuple).join(', ')})`;
}

function defaultSql(col: Col, v: string): string {
  if (col.type.base === 'bool') return v === 'true' ? '1' : '0';
  return myLiteral(v);
}

/** The SQL of `s` on table `database.<s.table>` (DDL gets its audit triggers from the driver). */
export function renderMysql(database: string, s: Stmt): MyQuery {
  const table = `${myIdent(database)}.${myIdent(s.table)}`;
  const values: unknown[] = [];
  switch (s.kind) {
    case 'insert':
    case 'upsert': {
      for (const r of s.rows) s.cols.forEach((c, i) => values.push(bind(c, r[i] ?? null)));
      const tuple = `(${s.cols.map(() => '?').join(', ')})`;
      let sql = `INSERT INTO ${table} (${s.cols.map((c) => myIdent(c.name)).join(', ')}) VALUES ${s.rows.map(() => tuple).join(', ')}`;
      if (s.kind === 'upsert') sql += ` ON DUPLICATE KEY UPDATE ${s.update.map((c) => `${myIdent(c)} = VALUES(${myIdent(c)})`).join(', ')}`;
      return { sql, values };
    }
    case 'update': {
      const set = s.set.map(({ col, value }) => {
        values.push(bind(col, value));
        return `${myIdent(col.name)} = ?`;
      });
      return { sql: `UPDATE ${table} SET ${set.join(', ')} WHERE ${keyMatch(s.key, s.keys, values)}`, values };
    }
    case 'delete':
      return { sql: `DELETE FROM ${table} WHERE ${keyMatch(s.key, s.keys, values)}`, values };
    case 'truncate':
      return { sql: `TRUNCATE TABLE ${table}`, values };
    case 'create-table': {
      const cols = s.columns.map((c) => `${myIdent(c.name)} ${typeSql(c.type, 'mysql')}${c.key ? ' NOT NULL' : ' NULL'}`);
      const key = s.columns.filter((c) => c.key).map((c) => myIdent(c.name));
      return { sql: `CREATE TABLE ${table} (${cols.join(', ')}, PRIMARY KEY (${key.join(', ')})) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`, values };
    }
    case 'add-column': {
      const dflt = s.dflt === undefined || s.dflt === null ? '' : ` DEFAULT ${defaultSql(s.column, s.dflt)}`;
      return { sql: `ALTER TABLE ${table} ADD COLUMN ${myIdent(s.column.name)} ${typeSql(s.column.type, 'mysql')} NULL${dflt}`, values };
    }
    case 'drop-column':
      return { sql: `ALTER TABLE ${table} DROP COLUMN ${myIdent(s.column)}`, values };
    case 'rename-column':
      return { sql: `ALTER TABLE ${table} RENAME COLUMN ${myIdent(s.from)} TO ${myIdent(s.to)}`, values };
    case 'alter-type':
      return { sql: `ALTER TABLE ${table} MODIFY COLUMN ${myIdent(s.column)} ${typeSql(s.to, 'mysql')} ${s.key ? 'NOT NULL' : 'NULL'}`, values };
  }
}

/** Columns as the audit triggers spell them: binary as HEX, everything else as text. */
export interface TriggerColumn {
  name: string;
  binary: boolean;
}

/**
 * The three AFTER row triggers of a table. They list the columns, so the driver recreates them
 * after every ALTER. The session variable `@ducktail_txn` numbers the driver's transactions.
 */
export function mysqlAuditTriggers(database: string, auditDb: string, table: string, id: number, columns: TriggerColumn[]): string[] {
  const image = (row: 'NEW' | 'OLD'): string =>
    `JSON_OBJECT(${columns.map((c) => `${myLiteral(c.name)}, ${c.binary ? `HEX(${row}.${myIdent(c.name)})` : `CAST(${row}.${myIdent(c.name)} AS CHAR)`}`).join(', ')})`;
  const log = `${myIdent(auditDb)}.\`log\``;
  const on = `${myIdent(database)}.${myIdent(table)}`;
  const name = (op: string): string => `${myIdent(database)}.\`ducktail_audit_${id}_${op}\``;
  const insert = (op: string, img: string, old: string): string =>
    `INSERT INTO ${log} (txn, tbl, op, row_image, old_image) VALUES (@ducktail_txn, ${myLiteral(table)}, '${op}', ${img}, ${old})`;
  return [
    `DROP TRIGGER IF EXISTS ${name('i')}`,
    `DROP TRIGGER IF EXISTS ${name('u')}`,
    `DROP TRIGGER IF EXISTS ${name('d')}`,
    `CREATE TRIGGER ${name('i')} AFTER INSERT ON ${on} FOR EACH ROW ${insert('insert', image('NEW'), 'NULL')}`,
    `CREATE TRIGGER ${name('u')} AFTER UPDATE ON ${on} FOR EACH ROW ${insert('update', image('NEW'), image('OLD'))}`,
    `CREATE TRIGGER ${name('d')} AFTER DELETE ON ${on} FOR EACH ROW ${insert('delete', image('OLD'), 'NULL')}`,
  ];
}
