import {
  DucktailError,
  PositionLostError,
  PrivilegeError,
  SourceConnectionError,
  TableNotFoundError,
} from '../../errors.js';
import { positionLostHint } from '../position-lost.js';
import type { ErrorContext, ErrorMapper } from '../source-errors.js';

interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
  sqlMessage?: string;
  fatal?: boolean;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED', 'ER_NET_READ_ERROR', 'ER_NET_READ_INTERRUPTED', 'ER_NET_ERROR_ON_WRITE',
]);

/** MySQL's `ErrorMapper`: a mysql2/zongji error to the `DucktailError` that says how to fix it. */
export const toDucktailError: ErrorMapper = (err: unknown, ctx: ErrorContext): Error => {
  if (err instanceof DucktailError) return err;
  const e = (err ?? {}) as DriverError;
  const code = e.code ?? '';
  const text = e.sqlMessage ?? e.message ?? String(err);
  const at = ctx.endpoint === undefined ? 'MySQL' : `MySQL at ${ctx.endpoint}`;
  const user = ctx.user ?? 'the configured user';
  switch (e.errno) {
    case 1045: // ER_ACCESS_DENIED_ERROR
    case 1698: // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
      return new SourceConnectionError(
        `${at} refused the login of user ${user}: ${text}`,
        "check source.user and the password variable named by source.passwordEnv (the worker's environment)",
        true,
      );
    case 1044: // ER_DBACCESS_DENIED_ERROR
    case 1142: // ER_TABLEACCESS_DENIED_ERROR
    case 1143: // ER_COLUMNACCESS_DENIED_ERROR
      return new PrivilegeError(
        `user ${user} may not read ${ctx.table ?? 'a configured table'} on ${at}: ${text}`,
        `GRANT SELECT ON ${ctx.table === undefined ? '<database>.*' : quoteTable(ctx.table)} TO ${user}`,
      );
    case 1227: // ER_SPECIFIC_ACCESS_DENIED_ERROR
      return new PrivilegeError(
        `user ${user} lacks a replication privilege on ${at}: ${text}`,
        `GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO ${user} (MariaDB 10.5+: REPLICATION SLAVE, BINLOG MONITOR)`,
      );
    case 1146: // ER_NO_SUCH_TABLE
    case 1049: // ER_BAD_DB_ERROR
      return new TableNotFoundError(
        `${ctx.table ?? 'a configured table'} does not exist on ${at}: ${text}`,
        'create the table or fix source.tables in ducktail.yaml',
      );
    case 1236: // ER_MASTER_FATAL_ERROR_READING_BINLOG: purged or invalid position
      return new PositionLostError(
        `${at} can no longer serve the binlog from ${ctx.position ?? 'the saved position'}: ${text}`,
        `${positionLostHint(ctx.pipeline)}; keep binlogs longer than the pipeline may be stopped (binlog_expire_logs_seconds)`,
      );
  }
  if (NETWORK_CODES.has(code) || e.fatal === true) {
    return new SourceConnectionError(
      `cannot reach ${at}: ${code !== '' ? `${code} ` : ''}${text}`,
      'check source.host/source.port and that the server is running; ducktail retries',
      false,
    );
  }
  return err instanceof Error ? err : new Error(ctx.doing === undefined ? text : `${ctx.doing}: ${text}`);
};

function quoteTable(table: string): string {
  const dot = table.indexOf('.');
  return `\`${table.slice(0, dot)}\`.\`${table.slice(dot + 1)}\``;
}
