import type { RowDataPacket } from 'mysql2/promise';
import type { MysqlSourceSpec } from '../model/pipeline-spec.js';
import { listSelectedTables, loadTables } from '../sources/mysql/mysql-catalog.js';
import { connectionOptions, errorContext, openConnection, quoteTable } from '../sources/mysql/mysql-connection.js';
import { toDucktailError } from '../sources/mysql/mysql-errors.js';
import { TableSelection } from '../sources/table-selection.js';
import { mysqlDialect } from './dialect-mysql.js';
import { classifyMysqlColumn } from './mysql-columns.js';
import type { VerifySource } from './verify-source.js';

/**
 * A MySQL/MariaDB source for verify: one connection with the pipeline's settings (utf8mb4,
 * exact numbers and dates as text, TIMESTAMPs in UTC).
 */
export async function openMysqlVerifySource(spec: MysqlSourceSpec, password: string | undefined): Promise<VerifySource> {
  const ctx = errorContext(spec);
  const conn = await openConnection(connectionOptions(spec, password), ctx);
  const selection = new TableSelection(spec.tables);
  return {
    dialect: mysqlDialect(),
    tables: () => listSelectedTables(conn, selection),
    async describe(table) {
      const info = (await loadTables(conn, [table])).get(table);
      if (info === undefined) return null;
      return {
        table,
        from: quoteTable(table),
        columns: info.columns.map((c) => ({ name: c.name, type: c.type, classified: classifyMysqlColumn(c) })),
        primaryKey: info.primaryKey,
      };
    },
    async exec({ sql, params }) {
      try {
        const [rows] = await conn.query<RowDataPacket[]>({ sql, rowsAsArray: true }, params);
        return (rows as unknown as unknown[][]).map((r) => r.map(asText));
      } catch (e) {
        throw toDucktailError(e, ctx);
      }
    },
    async close() {
      await conn.end().catch(() => conn.destroy());
    },
  };
}

function asText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
