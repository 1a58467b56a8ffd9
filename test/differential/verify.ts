import { access } from 'node:fs/promises';
import { describeDestination, isLake, type PipelineSpec } from '../../src/model/pipeline-spec.js';
import { compareAppend } from './compare-append.js';
import { compareMerge } from './compare-merge.js';
import type { AuditEntry, SourceDriver } from './driver.js';
import { DuckCopy, type DuckTable } from './duck-file.js';
import { resolveDuckTable } from './duck-names.js';
import type { SourceModel } from './model.js';
import type { RunPipelines } from './pipelines.js';
import { checkReplay, replayAudit } from './replay.js';
import { showTable, type Findings } from './report.js';
import { canonicalRow, keyOf, truthTable, type Row, type TruthTable } from './truth.js';
import type { ColumnChange } from './workload.js';

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
  /** Pipelines whose snapshot started over (a worker kill, or a table changed under it). */
  snapshotHit: ReadonlySet<string>;
  /** Columns added or retyped during the workload, with the audit id each came after. */
  columnChanges: ColumnChange[];
  /** Tables a re-sync was asked for (their copies may come before any change of theirs). */
  resynced: ReadonlySet<string>;
  findings: Findings;
}

/**
 * Compares both pipelines' copies (DuckDB files or lakes, read alike) with the truth: MERGE with the source tables now, APPEND with the
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

  const merge = await openCopy(v.pipelines.merge, findings);
  if (merge !== null) {
    try {
      await compareMerge(merge, v.pipelines.merge.name, driver.schema, tables, findings);
    } finally {
      await merge.close();
    }
  }

  const append = await openCopy(v.pipelines.append, findings);
  if (append !== null) {
    try {
      // A crash during the snapshot makes Ducktail copy again from a later consistent point: the
      // snapshot rows then stand for the source after some of the audit entries (see `snapshotCut`).
      const restarted = v.snapshotHit.has(v.pipelines.append.name);
      const cut = restarted ? await snapshotCut(append, v, tables, byTable) : null;
      for (const t of tables) {
        const all = byTable.get(t.name) ?? [];
        const skipped = cut === null ? [] : all.filter((e) => e.id <= cut.lastSkipped);
        const entries = cut === null ? all : all.filter((e) => e.id > cut.lastSkipped);
        const atMark = v.snapshot.get(t.name);
        const latest = (c: string): string => v.model.table(t.name)?.latestName(c) ?? c;
        const snapshot: TruthTable | undefined =
          cut === null || (atMark === undefined && skipped.length === 0)
            ? atMark
            : {
                ...t,
                // Renamed columns under their latest names on both sides (images carry the name of their
                // time); columns dropped since are left out (whether they still existed at the restart
                // point is not known here; the MERGE comparison covers what the source has now).
                columns: (atMark?.columns ?? t.columns).map(latest).filter((c) => t.columns.includes(c)),
                rows: withoutUnknown(
                  replayAudit(renameRows(atMark?.rows ?? new Map(), latest), skipped.map((e) => renameEntry(e, latest)), t),
                  lastImages(skipped, t),
                  v.columnChanges.filter((c) => c.table === t.name && c.afterAuditId < cut.firstKept).map((c) => ({ ...c, column: latest(c.column) })),
                ),
              };
        await compareAppend({
          file: append,
          pipeline: v.pipelines.append.name,
          schema: driver.schema,
          dialect: driver.dialect,
          table: t,
          snapshot,
          snapshotConsistent: true,
          resynced: v.resynced.has(t.name),
          audit: entries,
          latestName: (c) => v.model.table(t.name)?.latestName(c) ?? c,
          findings,
        });
      }
    } finally {
      await append.close();
    }
  }
  return { auditEntries: audit.length };
}

/**
 * The audit id up to which a restarted snapshot's rows already include the changes: each table's
 * last DuckDB change rows are its last audit entries, so the entries before them were copied as
 * part of the snapshot. One cut must fit every table (one consistent point); when none does, it
 * is reported and the comparison goes on from the snapshot mark (showing what differs).
 */
async function snapshotCut(
  file: DuckCopy,
  v: VerifyInput,
  tables: TruthTable[],
  byTable: Map<string, AuditEntry[]>,
): Promise<{ lastSkipped: number; firstKept: number } | null> {
  let lastSkipped = v.auditMark;
  let firstKept = Number.POSITIVE_INFINITY;
  for (const t of tables) {
    const entries = byTable.get(t.name) ?? [];
    const mapped = await resolveDuckTable(file, v.pipelines.append.name, v.driver.schema, t.name);
    const changes = mapped === null ? 0 : await countChanges(file, mapped.table);
    const skip = entries.length - changes;
    if (skip < 0) {
      v.findings.add('append', showTable(v.driver.schema, t.name), 'more change rows than audit entries', `${changes} DuckDB change rows, ${entries.length} audit entries`);
      return null;
    }
    if (skip > 0) lastSkipped = Math.max(lastSkipped, entries[skip - 1]?.id ?? lastSkipped);
    if (skip < entries.length) firstKept = Math.min(firstKept, entries[skip]?.id ?? firstKept);
  }
  if (lastSkipped >= firstKept) {
    v.findings.add('append', '', 'no single point the restarted snapshot stands for', `audit id ${lastSkipped} copied by the snapshot, ${firstKept} streamed`);
    return null;
  }
  return { lastSkipped, firstKept };
}

/** The audit id of each key's last image among `entries`. */
function lastImages(entries: AuditEntry[], t: TruthTable): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of entries) if (e.image !== null) out.set(keyOf(canonicalRow(e.image, t.classes), t.keyColumns), e.id);
  return out;
}

/**
 * A column added or retyped before the restarted snapshot's point gave the rows that existed then
 * a value no audit image shows (the DEFAULT, or the value restated): in rows whose last image is
 * older than that change, the column is not known and is left out of the comparison.
 */
function withoutUnknown(rows: Map<string, Row>, lastImage: Map<string, number>, changes: ColumnChange[]): Map<string, Row> {
  if (changes.length === 0) return rows;
  for (const [key, row] of rows) {
    const seen = lastImage.get(key) ?? -1;
    for (const c of changes) if (seen <= c.afterAuditId) delete row[c.column];
  }
  return rows;
}

function renameRow(row: Row, latest: (c: string) => string): Row {
  return Object.fromEntries(Object.entries(row).map(([c, val]) => [latest(c), val]));
}

function renameRows(rows: ReadonlyMap<string, Row>, latest: (c: string) => string): Map<string, Row> {
  return new Map([...rows].map(([k, r]) => [k, renameRow(r, latest)]));
}

function renameEntry(e: AuditEntry, latest: (c: string) => string): AuditEntry {
  return { ...e, image: e.image === null ? null : renameRow(e.image, latest), oldImage: e.oldImage === null ? null : renameRow(e.oldImage, latest) };
}

async function countChanges(file: DuckCopy, table: DuckTable): Promise<number> {
  const q = (n: string): string => `"${n.replaceAll('"', '""')}"`;
  const rows = await file.rows(`SELECT count(*) FROM ${q(table.schema)}.${q(table.name)} WHERE __op <> 'snapshot'`);
  return Number(rows[0]?.[0] ?? 0);
}

/** The pipeline's copy, or null (a finding) when its DuckDB file was never created or its lake cannot be attached. */
async function openCopy(spec: PipelineSpec, findings: Findings): Promise<DuckCopy | null> {
  const { destination } = spec;
  if (isLake(destination)) {
    try {
      return await DuckCopy.openLake(destination);
    } catch (err) {
      findings.add('pipeline', '', 'DuckLake cannot be attached read-only', `${describeDestination(destination)}: ${(err as Error).message}`);
      return null;
    }
  }
  try {
    await access(destination.path);
  } catch {
    findings.add('pipeline', '', 'DuckDB file never created', destination.path);
    return null;
  }
  return DuckCopy.openFile(destination.path);
}
