import type pg from 'pg';
import type { SourceRetention } from '../../model/retention.js';
import { formatBytes } from '../../util/bytes.js';

/** What `pg_replication_slots` says about the WAL a slot keeps (columns of newer versions read through JSON, absent before them). */
export interface SlotRetention {
  /** `pg_current_wal_lsn() - restart_lsn`; null when the slot has no restart_lsn (invalidated). */
  retainedBytes: number | null;
  /** PostgreSQL 13+. */
  walStatus: string | null;
  /** PostgreSQL 13+, only with max_slot_wal_keep_size. */
  safeWalBytes: number | null;
  /** PostgreSQL 17+: why the slot was invalidated; 16: `conflicting` (with recovery, on a standby). */
  invalidation: string | null;
}

/** The slot's retention, or null when it does not exist. */
export async function readSlotRetention(client: pg.Client, slot: string): Promise<SlotRetention | null> {
  const res = await client.query<{ retained: string | null; wal_status: string | null; safe_wal_size: string | null; invalidation_reason: string | null; conflicting: string | null }>(
    `SELECT ((CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END) - s.restart_lsn)::text AS retained,
            j->>'wal_status' AS wal_status, j->>'safe_wal_size' AS safe_wal_size,
            j->>'invalidation_reason' AS invalidation_reason, j->>'conflicting' AS conflicting
       FROM pg_replication_slots s, to_jsonb(s) j WHERE s.slot_name = $1`,
    [slot],
  );
  const r = res.rows[0];
  if (r === undefined) return null;
  const num = (v: string | null): number | null => (v === null ? null : Math.max(0, Number(v)));
  return {
    retainedBytes: num(r.retained),
    walStatus: r.wal_status,
    safeWalBytes: num(r.safe_wal_size),
    invalidation: r.invalidation_reason ?? (r.conflicting === 'true' ? 'conflict with recovery' : null),
  };
}

/**
 * Why the slot can no longer serve the pipeline, or null: it is gone although streaming had begun
 * from it (`streaming`), or PostgreSQL removed WAL it needed (`wal_status = 'lost'`) or otherwise
 * invalidated it. Before streaming begins a missing slot is not lost: an initial copy that starts
 * over makes a new one.
 */
export function slotLost(slot: string, info: SlotRetention | null, streaming: boolean): string | null {
  if (info === null) return streaming ? `replication slot ${slot} no longer exists (it was dropped)` : null;
  if (info.walStatus === 'lost') return `replication slot ${slot} lost WAL the pipeline had not loaded yet (wal_status = lost: it held more than max_slot_wal_keep_size)`;
  if (info.invalidation !== null) return `replication slot ${slot} was invalidated (${info.invalidation})`;
  return null;
}

/** The slot's retention for `status`; warnings other than the threshold's (see `thresholdWarning`). */
export function slotRetention(info: SlotRetention | null, now: Date): SourceRetention {
  const retention: SourceRetention = { bytes: info?.retainedBytes ?? null, log: 'WAL', warnings: [], measuredAt: now.toISOString() };
  if (info?.walStatus != null) retention.walStatus = info.walStatus;
  if (info?.safeWalBytes != null) retention.safeWalBytes = info.safeWalBytes;
  if (info?.walStatus === 'unreserved') {
    const left = info.safeWalBytes === null ? '' : ` after ${formatBytes(info.safeWalBytes)} more WAL`;
    retention.warnings.push(
      `the slot keeps more WAL than max_slot_wal_keep_size allows: PostgreSQL removes it at a checkpoint${left}, and the pipeline must then copy everything again; let the pipeline catch up now`,
    );
  }
  return retention;
}
