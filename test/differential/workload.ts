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
      }
    }
    stats.steps++;
    stats.ops.set(step.op, (stats.ops.get(step.op) ?? 0) + 1);
    if (step.pauseMs > 0) await new Promise((r) => setTimeout(r, step.pauseMs));
  }
}

export function newStats(): WorkloadStats {
  return { steps: 0, txns: 0, rollbacks: 0, rows: 0, ddl: 0, ops: new Map() };
}
