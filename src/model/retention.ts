import type { PipelineSpec, RetentionSpec } from './pipeline-spec.js';

/**
 * What the source keeps for a pipeline because the pipeline has not loaded it yet: the WAL its
 * PostgreSQL replication slot retains, or the MySQL/MariaDB binlog from its checkpoint on. Plain
 * JSON (activity results, workflow state, `status`).
 */
export interface SourceRetention {
  /** Bytes of WAL / binlog the source keeps for the pipeline; null when it cannot tell. */
  bytes: number | null;
  /** What is kept: PostgreSQL WAL or MySQL/MariaDB binlog. */
  log: 'WAL' | 'binlog';
  /** PostgreSQL: the slot's `wal_status` (reserved, extended, unreserved, lost), when the server has it. */
  walStatus?: string;
  /** PostgreSQL: WAL that may still be written before the slot is lost (`safe_wal_size`; only with max_slot_wal_keep_size). */
  safeWalBytes?: number;
  /** MySQL/MariaDB: the oldest binlog file the pipeline still needs (its checkpoint's). */
  oldestBinlog?: string;
  /** MySQL/MariaDB: the server's binlog expiry (binlog_expire_logs_seconds / expire_logs_days), when it purges by age. */
  binlogExpirySeconds?: number;
  /**
   * MySQL/MariaDB: about how long until the expiry may purge `oldestBinlog` (0: at the next log
   * rotation), when its age can be told; absent for the binlog file being written (never purged).
   */
  purgeInSeconds?: number;
  /** What needs attention now, each with what to do (over `retention.warnBytes`, expiry near, slot about to be lost). */
  warnings: string[];
  /** When it was measured (ISO-8601). */
  measuredAt: string;
}

/** `retention` settings of a spec; defaults for specs of older versions, which have none. */
export const DEFAULT_RETENTION: RetentionSpec = { warnBytes: 1024 ** 3, checkSeconds: 60 };

export function retentionSettings(spec: PipelineSpec): RetentionSpec {
  return { ...DEFAULT_RETENTION, ...spec.retention };
}
