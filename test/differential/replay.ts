import { compareKeyed } from './compare-rows.js';
import type { AuditEntry } from './driver.js';
import type { Divergence, Findings } from './report.js';
import { canonicalRow, keyOf, type Row, type TruthTable } from './truth.js';

/**
 * Replays audit entries over a starting state (by key: insert and update write the full image,
 * an update that changed the key removes the old key first, delete removes, truncate clears).
 */
export function replayAudit(start: ReadonlyMap<string, Row>, entries: AuditEntry[], table: TruthTable): Map<string, Row> {
  const state = new Map(start);
  for (const e of entries) {
    if (e.op === 'truncate') {
      state.clear();
      continue;
    }
    if (e.image === null) continue;
    const row = canonicalRow(e.image, table.classes);
    const key = keyOf(row, table.keyColumns);
    if (e.op === 'delete') {
      state.delete(key);
      continue;
    }
    if (e.op === 'update' && e.oldImage !== null) state.delete(keyOf(canonicalRow(e.oldImage, table.classes), table.keyColumns));
    state.set(key, row);
  }
  return state;
}

/**
 * Checks that `start` + the audit entries replayed equals the source now, in the columns both
 * sides have (a column added with a DEFAULT is in no image of an untouched row; renamed
 * columns carry their old name in old images).
 */
export function checkReplay(
  findings: Findings,
  where: Divergence['where'],
  label: string,
  startName: string,
  start: ReadonlyMap<string, Row>,
  entries: AuditEntry[],
  table: TruthTable,
): void {
  const replayed = replayAudit(start, entries, table);
  compareKeyed(
    {
      findings,
      where,
      table: label,
      expectedName: 'source',
      actualName: `${startName} + audit replay`,
      columns: (exp, act) => Object.keys(exp).filter((c) => c in act),
    },
    table.rows,
    replayed,
  );
}
