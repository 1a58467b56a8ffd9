import type { SourceDriver } from './driver.js';
import type { WorkloadGenerator } from './generator.js';
import { isDdl, rowCount } from './statements.js';

export interface WorkloadStats {
  steps: number;
  txns: number;
  rollbacks: number;
  /** Row changes committed (inserted, updated, deleted rows; truncates and DDL not counted). */
  rows: number;
  ddl: number;
  ops: Map<string, number>;
  /** Column changes (ADD COLUMN, type changes) with the audit id they came after, in order. */
  columnChanges: ColumnChange[];
}

/** A DDL that gave existing rows a value no audit image shows (ADD COLUMN) or restated one (a type change). */
export interface ColumnChange {
  /** The last audit id committed before the DDL (one writer: later entries come after it). */
  afterAuditId: number;
  table: string;
  column: string;
}

export interface WorkloadLimits {
  /** Stop after this many steps (when set)… */
  steps?: number;
  /** …or at this time (ms since epoch), whichever comes first. */
  deadline: number;
}

/**
 * Runs generator steps against the source, one transaction after another on one connection (a
 * single writer: audit ids then follow commit order), pausing as each step says.
 */
export async function runWorkload(
  gen: WorkloadGenerator,
  driver: SourceDriver,
  limits: WorkloadLimits,
  stats: WorkloadStats,
  shouldStop: () => boolean = () => false,
): Promise<void> {
  while (!shouldStop() && Date.now() < limits.deadline && (limits.steps === undefined || stats.steps < limits.steps)) {
    const step = gen.next();
    for (const txn of step.txns) {
      await driver.run(txn);
      stats.txns++;
      if (txn.rollback === true) stats.rollbacks++;
      else {
        for (const s of txn.stmts) {
          if (isDdl(s)) stats.ddl++;
          stats.rows += rowCount(s);
        }
        const changed = txn.stmts.flatMap((s) =>
          s.kind === 'add-column' ? [{ table: s.table, column: s.column.name }] : s.kind === 'alter-type' ? [{ table: s.table, column: s.column }] : [],
        );
        if (changed.length > 0) {
          const afterAuditId = await driver.auditMark();
          stats.columnChanges.push(...changed.map((c) => ({ ...c, afterAuditId })));
        }
      }
    }
    stats.steps++;
    stats.ops.set(step.op, (stats.ops.get(step.op) ?? 0) + 1);
    if (step.pauseMs > 0) await new Promise((r) => setTimeout(r, step.pauseMs));
  }
}

export function newStats(): WorkloadStats {
  return { steps: 0, txns: 0, rollbacks: 0, rows: 0, ddl: 0, ops: new Map(), columnChanges: [] };
}
