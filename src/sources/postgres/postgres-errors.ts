import {
  DucktailError,
  PositionLostError,
  PrivilegeError,
  SourceConnectionError,
  SourceSettingError,
} from '../../errors.js';
import { positionLostHint } from '../position-lost.js';
import type { ErrorContext, ErrorMapper } from '../source-errors.js';

interface PgLikeError {
  code?: string;
  message?: string;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH']);

/** True for "replication slot … is active for PID …" (55006): the previous walsender has not exited yet. */
export function isSlotActiveError(e: unknown): boolean {
  return (e as PgLikeError | null)?.code === '55006';
}

/** PostgreSQL's `ErrorMapper`: a `pg` or network error to the `DucktailError` that says how to fix it. */
export const toDucktailError: ErrorMapper = (e: unknown, ctx: ErrorContext): Error => {
  if (e instanceof DucktailError) return e;
  const err = (e ?? {}) as PgLikeError;
  const where = ctx.endpoint === undefined ? '' : ` (PostgreSQL at ${ctx.endpoint})`;
  const msg = `${ctx.doing ?? 'PostgreSQL'}${where}: ${err.message ?? String(e)}`;
  const code = err.code ?? '';
  if (code === '28P01' || code === '28000') {
    return new SourceConnectionError(msg, 'check the user, the password in the variable passwordEnv names, and pg_hba.conf', true);
  }
  if (code === '3D000') return new SourceConnectionError(msg, 'create the database or fix source.database', true);
  if (NETWORK_CODES.has(code) || code.startsWith('08') || code === '57P01' || code === '57P03' || code === '53300') {
    return new SourceConnectionError(msg, 'check that PostgreSQL is running and reachable at source.host:source.port', false);
  }
  if (/timeout expired|Connection terminated/i.test(err.message ?? '')) {
    return new SourceConnectionError(msg, 'check that PostgreSQL is running and reachable at source.host:source.port', false);
  }
  if (isSlotActiveError(e)) {
    // Retried for as long as it lasts: a worker that died without closing its connection holds
    // the slot until PostgreSQL notices (wal_sender_timeout), then any worker takes it.
    return new SourceConnectionError(
      msg,
      'nothing to do if a worker just died: PostgreSQL frees the slot when its connection times out (wal_sender_timeout); else stop the other process streaming from this slot',
      false,
    );
  }
  if (code === '42501') {
    return new PrivilegeError(msg, 'grant the user REPLICATION, SELECT on the tables and CREATE on the database (or use a superuser)');
  }
  if (code === '53400' || /replication slots are in use/i.test(err.message ?? '')) {
    return new SourceSettingError(msg, 'raise max_replication_slots (ALTER SYSTEM SET max_replication_slots = 20; restart) or drop unused slots');
  }
  if (code === '55000' && /wal_level/i.test(err.message ?? '')) return walLevelError(msg);
  if (/requested WAL segment .* has already been removed|can no longer get changes from replication slot/i.test(err.message ?? '')) {
    return new PositionLostError(`${msg} (the replication slot lost WAL the pipeline needs)`, positionLostHint(ctx.pipeline));
  }
  return e instanceof Error ? e : new Error(msg);
};

/** The error for a server without logical decoding. */
export function walLevelError(message: string): SourceSettingError {
  return new SourceSettingError(
    message,
    'set wal_level = logical (ALTER SYSTEM SET wal_level = logical; restart PostgreSQL) — or run npm run setup for the local server',
  );
}
