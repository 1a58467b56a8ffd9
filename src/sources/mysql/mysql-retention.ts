import type { Connection } from 'mysql2/promise';
import type { MysqlPosition } from '../../model/position.js';
import type { SourceRetention } from '../../model/retention.js';
import { formatDuration } from '../../util/duration.js';
import { queryRows } from './mysql-connection.js';

/** One row of `SHOW BINARY LOGS`, oldest first. */
export interface BinlogFile {
  file: string;
  size: number;
}

/** The server's binlog files, oldest first. */
export async function readBinlogFiles(conn: Connection): Promise<BinlogFile[]> {
  const rows = await queryRows<{ Log_name: string; File_size: number | string }>(conn, 'SHOW BINARY LOGS');
  return rows.map((r) => ({ file: r.Log_name, size: Number(r.File_size) }));
}

/** The server's binlog expiry settings, as `SHOW GLOBAL VARIABLES` names them. */
export async function readExpiryVariables(conn: Connection): Promise<Record<string, string>> {
  const rows = await queryRows<{ Variable_name: string; Value: string }>(
    conn,
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('binlog_expire_logs_seconds', 'expire_logs_days', 'binlog_expire_logs_auto_purge')",
  );
  return Object.fromEntries(rows.map((r) => [r.Variable_name, r.Value]));
}

/**
 * Seconds after which the server purges a binlog file by age, or null when it never does.
 * MySQL 8: `binlog_expire_logs_seconds` wins when not 0, else `expire_logs_days` (removed in 8.4);
 * `binlog_expire_logs_auto_purge = OFF` (8.0.29+) turns purging off. MariaDB 10.6+ keeps both in
 * step (`expire_logs_days` may be fractional); older MariaDB has only `expire_logs_days`.
 */
export function binlogExpirySeconds(vars: Record<string, string>): number | null {
  if (vars.binlog_expire_logs_auto_purge?.toUpperCase() === 'OFF') return null;
  const seconds = Number(vars.binlog_expire_logs_seconds ?? 0);
  if (Number.isFinite(seconds) && seconds > 0) return seconds;
  const days = Number(vars.expire_logs_days ?? 0);
  return Number.isFinite(days) && days > 0 ? Math.round(days * 86_400) : null;
}

/** Binlog bytes from `at` to the end of the log, or `purged` when `at`'s file is no longer on the server. */
export function binlogBytesFrom(files: BinlogFile[], at: MysqlPosition): { bytes: number; current: boolean } | 'purged' {
  const i = files.findIndex((f) => f.file === at.file);
  if (i < 0) return 'purged';
  const bytes = files.slice(i).reduce((n, f) => n + f.size, 0) - Math.min(at.pos, files[i]!.size);
  return { bytes: Math.max(0, bytes), current: i === files.length - 1 };
}

/** Warn once less than this part of the expiry period is left before the needed file may be purged. */
const EXPIRY_WARN_FRACTION = 0.25;

/**
 * When the expiry may purge the oldest binlog the pipeline needs. A server purges a file once its
 * last modification is older than the expiry (checked when the log rotates); the file being
 * written is never purged. The file's last modification is not visible over SQL: `modifiedAfterMs`
 * is a time it is known to have been written at or after (the newest of: when it was last seen
 * being written, the commit time of the last change loaded from it), so the age is an upper bound
 * and the warning errs early. Returns the seconds left (0: due at the next rotation) and a warning
 * once less than a quarter of the expiry is left, or nothing when it cannot be told.
 */
export function binlogExpiry(input: {
  file: string;
  current: boolean;
  expirySeconds: number | null;
  modifiedAfterMs: number | null;
  nowMs: number;
}): { purgeInSeconds?: number; warning?: string } {
  const { file, current, expirySeconds, modifiedAfterMs, nowMs } = input;
  if (current || expirySeconds === null || modifiedAfterMs === null) return {};
  const ageSeconds = Math.max(0, (nowMs - modifiedAfterMs) / 1000);
  const left = Math.max(0, Math.round(expirySeconds - ageSeconds));
  if (left > expirySeconds * EXPIRY_WARN_FRACTION) return { purgeInSeconds: left };
  const when = left === 0 ? 'at the next binlog rotation' : `in about ${formatDuration(left)}`;
  return {
    purgeInSeconds: left,
    warning:
      `binlog ${file}, the oldest the pipeline still needs, may be purged ${when} (binlog expiry ${formatDuration(expirySeconds)}): ` +
      'resume the pipeline or let it catch up before then, or keep binlogs longer (binlog_expire_logs_seconds); once purged, the tables must be copied again',
  };
}

/** The binlog retention for `status` from what the server reported; warnings other than the threshold's. */
export function binlogRetention(
  at: MysqlPosition | null,
  files: BinlogFile[],
  expirySeconds: number | null,
  modifiedAfterMs: number | null,
  now: Date,
): SourceRetention | 'purged' {
  const retention: SourceRetention = { bytes: null, log: 'binlog', warnings: [], measuredAt: now.toISOString() };
  if (expirySeconds !== null) retention.binlogExpirySeconds = expirySeconds;
  if (at === null || files.length === 0) return retention;
  const from = binlogBytesFrom(files, at);
  if (from === 'purged') return 'purged';
  retention.bytes = from.bytes;
  retention.oldestBinlog = at.file;
  const expiry = binlogExpiry({ file: at.file, current: from.current, expirySeconds, modifiedAfterMs, nowMs: now.getTime() });
  if (expiry.purgeInSeconds !== undefined) retention.purgeInSeconds = expiry.purgeInSeconds;
  if (expiry.warning !== undefined) retention.warnings.push(expiry.warning);
  return retention;
}
