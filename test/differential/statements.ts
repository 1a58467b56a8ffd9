import type { ColumnType } from './column-types.js';
import type { Op } from './features.js';
import type { Val } from './values.js';

/**
 * What the generator asks a source to do, independent of SQL dialect: drivers render and run
 * these (with bound parameters, never spliced values). Columns carry their type so a driver can
 * bind values without looking anything up.
 */

export interface Col {
  name: string;
  type: ColumnType;
}

export interface ColumnDef extends Col {
  key: boolean;
}

export type Stmt =
  | { kind: 'insert'; table: string; cols: Col[]; rows: Val[][] }
  /** INSERT … ON CONFLICT (key) DO UPDATE / ON DUPLICATE KEY UPDATE, setting `update` from the new row. */
  | { kind: 'upsert'; table: string; cols: Col[]; rows: Val[][]; key: string[]; update: string[] }
  /** UPDATE … SET `set` WHERE key IN `keys` (a key column may be among `set`: the key changes). */
  | { kind: 'update'; table: string; set: { col: Col; value: Val }[]; key: Col[]; keys: Val[][] }
  | { kind: 'delete'; table: string; key: Col[]; keys: Val[][] }
  | { kind: 'truncate'; table: string }
  | { kind: 'create-table'; table: string; columns: ColumnDef[] }
  /** `dflt`: a constant DEFAULT (existing rows read it at the source without any change event). */
  | { kind: 'add-column'; table: string; column: Col; dflt?: Val }
  | { kind: 'drop-column'; table: string; column: string }
  | { kind: 'rename-column'; table: string; from: string; to: string }
  | { kind: 'alter-type'; table: string; column: string; to: ColumnType; key: boolean };

/** One source transaction. DDL and TRUNCATE on MariaDB are always alone in theirs (implicit commit). */
export interface Txn {
  stmts: Stmt[];
  /** End with ROLLBACK: nothing of it may reach DuckDB. */
  rollback?: boolean;
}

/** One generator step: the transactions of one operation, then a pause. */
export interface Step {
  op: Op | 'seed';
  txns: Txn[];
  pauseMs: number;
}

export function isDdl(s: Stmt): boolean {
  return s.kind === 'create-table' || s.kind === 'add-column' || s.kind === 'drop-column' || s.kind === 'rename-column' || s.kind === 'alter-type';
}

/** Row changes a statement makes (for progress counts; truncates and DDL count 0). */
export function rowCount(s: Stmt): number {
  switch (s.kind) {
    case 'insert':
    case 'upsert':
      return s.rows.length;
    case 'update':
    case 'delete':
      return s.keys.length;
    default:
      return 0;
  }
}

/**
 * Rows a statement must report as changed, when that is exact (inserts, updates, deletes of keys
 * the model says are live; every UPDATE sets a new `rev`, so it always changes its rows). A
 * different count means the generator's model drifted from the source: a tester bug.
 */
export function expectedAffected(s: Stmt): number | undefined {
  return s.kind === 'insert' || s.kind === 'update' || s.kind === 'delete' ? rowCount(s) : undefined;
}

export function driftError(s: Stmt, affected: number): Error {
  return new Error(`tester bug: the model drifted from the source: ${s.kind} on ${JSON.stringify(s.table)} changed ${affected} rows, expected ${expectedAffected(s)}`);
}
