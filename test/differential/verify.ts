import { access } from 'node:fs/promises';
import { compareAppend } from './compare-append.js';
import { compareMerge } from './compare-merge.js';
import type { AuditEntry, SourceDriver } from './driver.js';
import { DuckFile } from './duck-file.js';
import type { SourceModel } from './model.js';
import type { RunPipelines } from './pipelines.js';
import { checkReplay } from './replay.js';
import { showTable, type Findings } from './report.js';
import { truthTable, type TruthTable } from './truth.js';

/** Reads every source table as truth (canonical values, keyed), with the generator's value classes. */
export async function readTruth(driver: SourceDriver, model: SourceModel, findings: Findings): Promise<TruthTable[]> {
  const out: TruthTable[] = [];
  for (const name of await driver.listTables()) {
    const t = model.table(name);
    const source = await driver.readTable(name);
    if (t === undefined || source === null) {
      findings.add('audit', showTable(driver.schema, name), 'table unknown to the generator', 'a tester bug');
      continue;
    }
    out.push(truthTable(name, source, t.keyColumns().map((c) => c.name), t.classes));
  }
  return out;
}

export interface VerifyInput {
  driver: SourceDriver;
  model: SourceModel;
  pipelines: RunPipelines;
  /** Source tables at the snapshot point, by name. */
  snapshot: Map<string, TruthTable>;
  /** Audit log id at the snapshot point. */
  auditMark: number;
  /** Pipelines whose snapshot a worker kill interrupted. */
  snapshotHit: ReadonlySet<string>;
  findings: Findings;
}

/**
 * Compares both DuckDB files with the truth: MERGE with the source tables now, APPEND with the
 * snapshot and the audit log. Also checks the tester itself: snapshot + audit log replayed must
 * equal the source now (else the audit log is not a truth to compare with).
 */
export async function verify(v: VerifyInput): Promise<{ auditEntries: number }> {
  const { driver, findings } = v;
  const tables = await readTruth(driver, v.model, findings);
  const audit = await driver.readAudit(v.auditMark);
  const byTable = new Map<string, AuditEntry[]>();
  for (const e of audit) byTable.set(e.table, [...(byTable.get(e.table) ?? []), e]);

  for (const t of tables) {
    checkReplay(findings, 'audit', showTable(driver.schema, t.name), 'snapshot', v.snapshot.get(t.name)?.rows ?? new Map(), byTable.get(t.name) ?? [], t);
  }

  const merge = await openDuck(v.pipelines.merge.destination.path, findings);
  if (merge !== null) {
    try {
      await compareMerge(merge, v.pipelines.merge.name, driver.schema, tables, findings);
    } finally {
      merge.close();
    }
  }

  const append = await openDuck(v.pipelines.append.destination.path, findings);
  if (append !== null) {
    try {
      const inconsistent = v.snapshotHit.has(v.pipelines.append.name);
      for (const t of tables) {
        const entries = byTable.get(t.name) ?? [];
        const snapshot = v.snapshot.get(t.name);
        const snapshotRows = await compareAppend({
          file: append,
          pipeline: v.pipelines.append.name,
          schema: driver.schema,
          dialect: driver.dialect,
          table: t,
          snapshot,
          snapshotConsistent: !inconsistent,
          audit: entries,
          latestName: (c) => v.model.table(t.name)?.latestName(c) ?? c,
          findings,
        });
        if (inconsistent && snapshot !== undefined && snapshotRows !== null) {
          checkReplay(findings, 'append', showTable(driver.schema, t.name), 'DuckDB snapshot rows', snapshotRows, entries, t);
        }
      }
    } finally {
      append.close();
    }
  }
  return { auditEntries: audit.length };
}

async function openDuck(path: string, findings: Findings): Promise<DuckFile | null> {
  try {
    await access(path);
  } catch {
    findings.add('pipeline', '', 'DuckDB file never created', path);
    return null;
  }
  return DuckFile.open(path);
}
