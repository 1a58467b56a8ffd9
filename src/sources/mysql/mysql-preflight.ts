import type { Connection } from 'mysql2/promise';
import { NoPrimaryKeyError, PrivilegeError, SourceSettingError } from '../../errors.js';
import type { PipelineSpec } from '../../model/pipeline-spec.js';
import type { PreflightReport } from '../source-connector.js';
import { quoteTable, queryRows } from './mysql-connection.js';
import { toDucktailError } from './mysql-errors.js';
import type { ErrorContext } from '../source-errors.js';
import { listSelectedTables, listTables, loadTables, type TableInfo } from './mysql-catalog.js';
import type { TableSelection } from '../table-selection.js';
import { mapTable } from './mysql-types.js';

const SETUP = 'or run npm run setup for the local server';

function settingFix(name: string, value: string): string {
  return `SET GLOBAL ${name} = ${value}, and in my.cnf [mysqld] ${name} = ${value} — ${SETUP}`;
}

/**
 * Checks the binlog settings capture needs, from `SHOW GLOBAL VARIABLES` (name → value).
 * Pure; returns one error per problem, in the order they should be fixed.
 */
export function checkBinlogSettings(vars: Record<string, string>): SourceSettingError[] {
  const v = (name: string): string | undefined => vars[name]?.toUpperCase();
  const problems: SourceSettingError[] = [];
  if (v('log_bin') !== 'ON' && v('log_bin') !== '1') {
    problems.push(new SourceSettingError(
      'the binary log is off (log_bin = OFF): there is no change stream to read',
      `in my.cnf [mysqld] set log_bin = mysql-bin and server_id = 1, then restart the server — ${SETUP}`,
    ));
  }
  if (v('binlog_format') !== 'ROW') {
    problems.push(new SourceSettingError(
      `binlog_format is ${vars.binlog_format ?? 'unknown'}, but change capture needs ROW`,
      settingFix('binlog_format', 'ROW'),
    ));
  }
  if (v('binlog_row_image') !== 'FULL') {
    problems.push(new SourceSettingError(
      `binlog_row_image is ${vars.binlog_row_image ?? 'unknown'}, but change capture needs FULL (every column of every changed row)`,
      settingFix('binlog_row_image', 'FULL'),
    ));
  }
  if (v('binlog_row_metadata') === undefined) {
    problems.push(new SourceSettingError(
      'this server has no binlog_row_metadata setting: rows cannot be decoded correctly across ALTER TABLE',
      'use MySQL 8.0+ or MariaDB 10.5+ with binlog_row_metadata = FULL',
    ));
  } else if (v('binlog_row_metadata') !== 'FULL') {
    problems.push(new SourceSettingError(
      `binlog_row_metadata is ${vars.binlog_row_metadata}, but change capture needs FULL (column names and types in the binlog)`,
      settingFix('binlog_row_metadata', 'FULL'),
    ));
  }
  if (v('binlog_transaction_compression') === 'ON' || v('binlog_transaction_compression') === '1') {
    problems.push(new SourceSettingError(
      'binlog_transaction_compression is ON: compressed transactions cannot be decoded',
      settingFix('binlog_transaction_compression', 'OFF'),
    ));
  }
  if (v('binlog_row_value_options')?.includes('PARTIAL_JSON') === true) {
    problems.push(new SourceSettingError(
      'binlog_row_value_options = PARTIAL_JSON: partial JSON updates cannot be decoded',
      `SET GLOBAL binlog_row_value_options = '', and remove it from my.cnf — ${SETUP}`,
    ));
  }
  return problems;
}

/**
 * Replication privileges missing from `SHOW GRANTS` output (global grants only). Pure.
 * MariaDB 10.5+ shows REPLICATION CLIENT as BINLOG MONITOR; SUPER implies it on older servers.
 */
export function missingReplicationGrants(grants: string[]): string[] {
  const privs = globalPrivileges(grants);
  if (privs.has('ALL PRIVILEGES')) return [];
  const missing: string[] = [];
  if (!privs.has('REPLICATION SLAVE') && !privs.has('REPLICATION REPLICA')) missing.push('REPLICATION SLAVE');
  if (!['REPLICATION CLIENT', 'BINLOG MONITOR', 'SUPER'].some((p) => privs.has(p))) missing.push('REPLICATION CLIENT');
  return missing;
}

/** Whether the grants let the user see other users' sessions (PROCESS), directly. Pure. */
export function seesOtherSessions(grants: string[]): boolean {
  const privs = globalPrivileges(grants);
  return privs.has('ALL PRIVILEGES') || privs.has('PROCESS');
}

function globalPrivileges(grants: string[]): Set<string> {
  const privs = new Set<string>();
  for (const g of grants) {
    const m = /^GRANT (.+?) ON \*\.\* TO /i.exec(g);
    for (const p of m?.[1]?.split(',') ?? []) privs.add(p.trim().toUpperCase());
  }
  return privs;
}

/** Everything `preflight()` checks, against an open connection. */
export async function runPreflight(
  conn: Connection,
  spec: PipelineSpec,
  sel: TableSelection,
  ctx: ErrorContext,
): Promise<{ report: PreflightReport; tables: Map<string, TableInfo> }> {
  const vars = await queryRows<{ Variable_name: string; Value: string }>(
    conn,
    `SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', 'binlog_row_image',
      'binlog_row_metadata', 'binlog_transaction_compression', 'binlog_row_value_options')`,
  );
  const problems = checkBinlogSettings(Object.fromEntries(vars.map((r) => [r.Variable_name, r.Value])));
  if (problems[0] !== undefined) throw problems[0];

  const warnings: string[] = [];
  const grants = (await queryRows<Record<string, string>>(conn, 'SHOW GRANTS')).map((r) => Object.values(r)[0] ?? '');
  const missing = missingReplicationGrants(grants);
  const viaRoles = grants.some((g) => /^GRANT `[^`]+`(@`[^`]*`)? TO /i.test(g));
  if (spec.snapshot.enabled && !seesOtherSessions(grants) && !viaRoles) {
    warnings.push(
      `user ${spec.source.user} lacks PROCESS: during the initial copy, a schema change of a table already read waits until the copy ends ` +
        `(and queries of that table wait behind it); GRANT PROCESS ON *.* TO ${spec.source.user} lets the copy give way and start over`,
    );
  }
  if (missing.length > 0) {
    const text = `user ${spec.source.user} lacks ${missing.join(' and ')}`;
    if (!viaRoles) {
      throw new PrivilegeError(text, `GRANT ${missing.join(', ')} ON *.* TO ${spec.source.user} (MariaDB 10.5+: REPLICATION SLAVE, BINLOG MONITOR)`);
    }
    warnings.push(`${text} directly; assuming a granted role provides it`);
  }

  const found = await listSelectedTables(conn, sel);
  // Named tables must exist (names are case-sensitive); similar names of their databases are suggested.
  sel.pick(await listTables(conn, sel.schemas), ctx.endpoint);
  if (found.length === 0) warnings.push(`no tables match ${sel.patterns.join(', ')} yet: new ones will be captured when created`);

  const tables = await loadTables(conn, found);
  for (const info of tables.values()) {
    try {
      // SELECT * needs every column: information_schema hides columns the user may not read.
      await conn.query(`SELECT * FROM ${quoteTable(info.table)} LIMIT 0`);
    } catch (err) {
      throw toDucktailError(err, { ...ctx, table: info.table });
    }
    if (info.primaryKey.length === 0 && spec.mode === 'merge') {
      if (spec.keyless === 'error') {
        throw new NoPrimaryKeyError(
          `${info.table} has no primary key, so it cannot be merged (one row per key)`,
          `add a primary key to ${info.table}, or set keyless: append (or mode: append) in ducktail.yaml`,
        );
      }
      warnings.push(`${info.table} has no primary key: replicated in APPEND mode`);
    }
    if (info.engine !== '' && info.engine.toUpperCase() !== 'INNODB') {
      warnings.push(`${info.table} uses ${info.engine}: its snapshot cannot be consistent with the binlog (MERGE still converges)`);
    }
  }
  const report: PreflightReport = {
    tables: [...tables.values()].map((t) => mapTable(t.table, t.columns, t.primaryKey).schema),
    warnings,
  };
  return { report, tables };
}
