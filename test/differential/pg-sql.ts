import { typeSql } from './column-types.js';
import type { Col, Stmt } from './statements.js';
import type { Val } from './values.js';

/**
 * Renders statements for PostgreSQL. Values are bound parameters (bytea as Buffers); only
 * identifiers and DEFAULT constants are spelled into the SQL, quoted.
 */

export const pgIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;
export const pgLiteral = (value: string): string => `'${value.replaceAll("'", "''")}'`;

export interface PgQuery {
  text: string;
  values: unknown[];
}

/** Audit triggers of a table: one per row change, one for TRUNCATE (statement level). */
export function pgAuditTriggers(qualified: string): string[] {
  return [
    `CREATE TRIGGER ducktail_audit_row AFTER INSERT OR UPDATE OR DELETE ON ${qualified} FOR EACH ROW EXECUTE FUNCTION ducktail_audit.on_row()`,
    `CREATE TRIGGER ducktail_audit_truncate AFTER TRUNCATE ON ${qualified} FOR EACH STATEMENT EXECUTE FUNCTION ducktail_audit.on_truncate()`,
  ];
}

function bind(col: Col, v: Val): unknown {
  if (v === null) return null;
  return col.type.base === 'bytes' ? Buffer.from(v, 'hex') : v;
}

class Params {
  readonly values: unknown[] = [];
  add(col: Col, v: Val): string {
    this.values.push(bind(col, v));
    return `$${this.values.length}`;
  }
}

function keyMatch(key: Col[], keys: Val[][], p: Params): string {
  if (key.length === 1) return `${pgIdent(key[0]!.name)} IN (${keys.map((k) => p.add(key[0]!, k[0] ?? null)).join(', ')})`;
  const tuples = keys.map((k) => `(${key.map((c, i) => p.add(c, k[i] ?? null)).join(', ')})`);
  return `(${key.map((c) => pgIdent(c.name)).join(', ')}) IN (${tuples.join(', ')})`;
}

/** The SQL (one or more statements) of `s` on table `schema.<s.table>`. */
export function renderPg(schema: string, s: Stmt): PgQuery[] {
  const table = `${pgIdent(schema)}.${pgIdent(s.table)}`;
  const p = new Params();
  switch (s.kind) {
    case 'insert':
    case 'upsert': {
      const rows = s.rows.map((r) => `(${s.cols.map((c, i) => p.add(c, r[i] ?? null)).join(', ')})`);
      let text = `INSERT INTO ${table} (${s.cols.map((c) => pgIdent(c.name)).join(', ')}) VALUES ${rows.join(', ')}`;
      if (s.kind === 'upsert') {
        text += ` ON CONFLICT (${s.key.map(pgIdent).join(', ')}) DO UPDATE SET ${s.update.map((c) => `${pgIdent(c)} = EXCLUDED.${pgIdent(c)}`).join(', ')}`;
      }
      return [{ text, values: p.values }];
    }
    case 'update': {
      const set = s.set.map(({ col, value }) => `${pgIdent(col.name)} = ${p.add(col, value)}`).join(', ');
      return [{ text: `UPDATE ${table} SET ${set} WHERE ${keyMatch(s.key, s.keys, p)}`, values: p.values }];
    }
    case 'delete':
      return [{ text: `DELETE FROM ${table} WHERE ${keyMatch(s.key, s.keys, p)}`, values: p.values }];
    case 'truncate':
      return [{ text: `TRUNCATE ${table}`, values: [] }];
    case 'create-table': {
      const cols = s.columns.map((c) => `${pgIdent(c.name)} ${typeSql(c.type, 'pg')}${c.key ? ' NOT NULL' : ''}`);
      const key = s.columns.filter((c) => c.key).map((c) => pgIdent(c.name));
      return [`CREATE TABLE ${table} (${cols.join(', ')}, PRIMARY KEY (${key.join(', ')}))`, ...pgAuditTriggers(table)].map((text) => ({ text, values: [] }));
    }
    case 'add-column': {
      const dflt = s.dflt === undefined || s.dflt === null ? '' : ` DEFAULT ${pgLiteral(s.dflt)}::${typeSql(s.column.type, 'pg')}`;
      return [{ text: `ALTER TABLE ${table} ADD COLUMN ${pgIdent(s.column.name)} ${typeSql(s.column.type, 'pg')}${dflt}`, values: [] }];
    }
    case 'drop-column':
      return [{ text: `ALTER TABLE ${table} DROP COLUMN ${pgIdent(s.column)}`, values: [] }];
    case 'rename-column':
      return [{ text: `ALTER TABLE ${table} RENAME COLUMN ${pgIdent(s.from)} TO ${pgIdent(s.to)}`, values: [] }];
    case 'alter-type':
      return [{ text: `ALTER TABLE ${table} ALTER COLUMN ${pgIdent(s.column)} TYPE ${typeSql(s.to, 'pg')}`, values: [] }];
  }
}
