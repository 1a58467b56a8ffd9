import { canonical, preview } from './canonical.js';
import type { Dialect } from './column-types.js';
import { compareKeyed } from './compare-rows.js';
import type { AuditEntry } from './driver.js';
import { resolveColumn, type DuckCopy } from './duck-file.js';
import { resolveDuckTable } from './duck-names.js';
import { positionOrder } from './positions.js';
import { showTable, type Findings } from './report.js';
import { canonicalRow, classOf, keyOf, type Row, type TruthTable } from './truth.js';

export interface AppendInput {
  file: DuckCopy;
  pipeline: string;
  schema: string;
  dialect: Dialect;
  /** The table now (key columns, value classes, current columns). */
  table: TruthTable;
  /** The table at the snapshot point; undefined for tables created later. */
  snapshot: TruthTable | undefined;
  /** False when a crash hit the snapshot: its later chunks were read outside the exported snapshot. */
  snapshotConsistent: boolean;
  /** A re-sync was asked for this table: its copy may come before any change of the table. */
  resynced?: boolean;
  /** This table's audit entries after the snapshot point, in order. */
  audit: AuditEntry[];
  /** The name a source column has now, after renames (old images carry old names). */
  latestName(column: string): string;
  findings: Findings;
}

/** A DuckDB APPEND row: op, position, seq and the row image (canonical; absent columns omitted). */
interface AppendRow {
  op: string;
  position: string | null;
  seq: string | null;
  image: Row;
}

/**
 * APPEND truth. DuckDB rows are taken in insertion order (`rowid`), which must be commit order
 * (checked: `__position` never goes back, `__seq` rises within a position). Then:
 * - the `snapshot` rows come first and equal the source at the snapshot point (when consistent);
 * - the other rows equal the audit log after the snapshot point, change for change: same op,
 *   same image in every column the audit image has, same transaction grouping.
 * Returns the snapshot rows by key (for the replay check), or null when the table is missing.
 */
export async function compareAppend(input: AppendInput): Promise<Map<string, Row> | null> {
  const { file, table, findings, audit } = input;
  const label = showTable(input.schema, table.name);
  const snapshotRows = new Map<string, Row>();
  const mapped = await resolveDuckTable(file, input.pipeline, input.schema, table.name);
  if (mapped === null) {
    const expected = audit.length + (input.snapshot?.rows.size ?? 0);
    if (expected > 0) findings.add('append', label, 'table missing in DuckDB', `${audit.length} changes and ${input.snapshot?.rows.size ?? 0} snapshot rows expected`);
    return null;
  }
  const names = new Set<string>([...table.columns, ...(input.snapshot?.columns ?? [])]);
  for (const e of audit) for (const c of Object.keys(e.image ?? {})) names.add(c);
  const columns = [...names];
  const meta = ['__op', '__position', '__seq'];
  // An old image's column: DuckDB's column of that name if there is one (a rename kept as a new
  // column), else the column it was renamed to (a rename followed in DuckDB).
  const duckName = (c: string): string | undefined => {
    const direct = mapped.column(c);
    return direct !== undefined && resolveColumn(mapped.table, direct, mapped.mapped) !== undefined ? direct : mapped.column(input.latestName(c));
  };
  const values = await file.readRows(mapped.table, columns.map(duckName), mapped.mapped);
  const metaValues = await file.readRows(mapped.table, meta, true);
  const read = values.map((r, i) => ({ values: [...r.values, ...(metaValues[i]?.values ?? [])] }));
  const rows: AppendRow[] = read.map((r) => {
    const image: Row = {};
    columns.forEach((c, i) => {
      const v = r.values[i];
      if (v !== undefined) image[c] = canonical(classOf(table.classes, c), v);
    });
    const [op, position, seq] = r.values.slice(columns.length);
    return { op: op ?? '(no __op)', position: position ?? null, seq: seq ?? null, image };
  });

  // The initial snapshot's rows come first, all at its start position. Snapshot rows at another
  // position before any change are a re-sync's copy when one was asked for (a table no change
  // touched between the two); otherwise they are read as more snapshot rows (a copy left twice).
  let firstChange = rows.findIndex((r) => r.op !== 'snapshot');
  if (input.resynced === true) {
    const head = firstChange < 0 ? rows : rows.slice(0, firstChange);
    const copy = head.findIndex((r) => r.position !== head[0]?.position);
    if (copy > 0) firstChange = copy;
  }
  const changes = firstChange < 0 ? [] : rows.slice(firstChange);
  // Snapshot rows keep only the columns the table had at the snapshot point: a column added later
  // reads NULL in them, which says nothing about the source.
  const snapshotColumns = input.snapshot?.columns ?? table.columns;
  // Snapshot rows after the first change are a re-sync's copies (checked by `compareCopies`).
  for (const r of firstChange < 0 ? rows : rows.slice(0, firstChange)) {
    if (r.op !== 'snapshot') continue;
    const key = keyOf(r.image, table.keyColumns);
    if (snapshotRows.has(key)) findings.add('append', label, 'snapshot row duplicated', `key ${key}`);
    snapshotRows.set(key, Object.fromEntries(snapshotColumns.filter((c) => c in r.image).map((c) => [c, r.image[c] ?? null])));
  }
  const changeRows = changes.filter((r) => r.op !== 'snapshot');

  if (input.snapshot === undefined) {
    if (snapshotRows.size > 0) findings.add('append', label, 'snapshot rows for a table created after the snapshot', `${snapshotRows.size} rows`);
  } else if (input.snapshotConsistent) {
    const cols = input.snapshot.columns;
    compareKeyed(
      // A restarted snapshot's truth leaves out the values it cannot know (see verify.ts).
      { findings, where: 'append', table: label, expectedName: 'source at snapshot', actualName: 'DuckDB snapshot rows', columns: (exp) => cols.filter((c) => c in exp) },
      input.snapshot.rows,
      snapshotRows,
    );
  }
  checkOrder(input, label, changeRows);
  compareChanges(input, label, changeRows, new Set(snapshotRows.keys()));
  compareCopies(input, label, changes);
  return snapshotRows;
}

/**
 * A re-sync's copies (snapshot rows among the changes, in stream order) must each equal the
 * source's row at their place: the state replayed from the snapshot truth and the audit changes
 * before them. Keys whose state is unknown (a crash hit the snapshot and no change of the key came
 * since) are not checked.
 */
function compareCopies(input: AppendInput, label: string, changes: AppendRow[]): void {
  const { audit, table, findings } = input;
  if (!changes.some((r) => r.op === 'snapshot')) return;
  const consistent = input.snapshotConsistent && input.snapshot !== undefined;
  const state = new Map<string, Row>(consistent ? input.snapshot?.rows : []);
  const known = new Set<string>();
  let allKnown = consistent || input.snapshot === undefined;
  let i = 0;
  let reported = 0;
  for (const r of changes) {
    if (r.op !== 'snapshot') {
      const e = audit[i++];
      if (e === undefined) return; // compareChanges reports the divergence
      if (e.op === 'truncate') {
        state.clear();
        allKnown = true;
        continue;
      }
      if (e.oldImage !== null) {
        const old = keyOf(canonicalRow(e.oldImage, table.classes), table.keyColumns);
        state.delete(old);
        known.add(old);
      }
      if (e.image === null) continue;
      const image = canonicalRow(e.image, table.classes);
      const key = keyOf(image, table.keyColumns);
      known.add(key);
      if (e.op === 'delete') state.delete(key);
      else state.set(key, image);
      continue;
    }
    const key = keyOf(r.image, table.keyColumns);
    if (!allKnown && !known.has(key)) continue;
    const want = state.get(key);
    const problem =
      want === undefined
        ? 'the source had no such row there'
        : Object.entries(want)
            .filter(([c]) => table.columns.includes(input.latestName(c)))
            .filter(([c, v]) => (r.image[c] ?? null) !== v)
            .map(([c, v]) => `column ${JSON.stringify(c)}: source ${preview(v)} vs copy ${c in r.image ? preview(r.image[c]) : '(no such column)'}`)
            .join('; ');
    if (problem !== '' && reported++ < 5) findings.add('append', label, 're-sync copy differs from the source at its place', `key ${key} at ${r.position}#${r.seq}: ${problem}`);
  }
}

function checkOrder(input: AppendInput, label: string, rows: AppendRow[]): void {
  let prev: { pos: bigint; seq: number } | null = null;
  for (const [i, r] of rows.entries()) {
    const pos = positionOrder(input.dialect, r.position);
    const seq = Number(r.seq);
    if (pos === null || !Number.isFinite(seq)) {
      input.findings.add('append', label, 'bad __position/__seq', `change #${i}: __position ${preview(r.position)} __seq ${preview(r.seq)}`);
      continue;
    }
    if (prev !== null && (pos < prev.pos || (pos === prev.pos && seq <= prev.seq))) {
      input.findings.add('append', label, 'rowid order is not commit order', `change #${i}: ${r.position}#${seq} after ${prev.pos}#${prev.seq}`);
    }
    prev = { pos, seq };
  }
}

/**
 * Pairs DuckDB change rows with audit entries in order. When a crash hit the snapshot, a value
 * Ducktail fills from the key's previous image (delete images, unchanged TOAST) is wrong if that
 * image is a snapshot row read after the crash (or missing: the row was gone by then); such
 * differences on a key's first change get their own kind.
 */
function compareChanges(input: AppendInput, label: string, rows: AppendRow[], snapshotKeys: ReadonlySet<string>): void {
  const { audit, table, findings } = input;
  const fromSnapshot = new Set(input.snapshotConsistent ? [] : [...snapshotKeys, ...(input.snapshot?.rows.keys() ?? [])]);
  const describe = (e: AuditEntry | undefined): string =>
    e === undefined ? '(none)' : `${e.op}${e.image === null ? '' : ` key ${keyOf(canonicalRow(e.image, table.classes), table.keyColumns)}`} (audit id ${e.id})`;
  const describeRow = (r: AppendRow | undefined): string => (r === undefined ? '(none)' : `${r.op} key ${keyOf(r.image, table.keyColumns)} at ${r.position}#${r.seq}`);
  const context = (i: number): string =>
    `audit: [${audit.slice(Math.max(0, i - 1), i + 3).map(describe).join(', ')}] DuckDB: [${rows.slice(Math.max(0, i - 1), i + 3).map(describeRow).join(', ')}]` +
    ` — op counts audit ${opCounts(audit.map((e) => e.op))} vs DuckDB ${opCounts(rows.map((r) => r.op))}`;
  const n = Math.max(audit.length, rows.length);
  for (let i = 0; i < n; i++) {
    const e = audit[i];
    const r = rows[i];
    if (e === undefined || r === undefined) {
      const what = e === undefined ? `${rows.length - i} DuckDB change rows more than the audit log` : `${audit.length - i} audit changes missing from DuckDB`;
      findings.add('append', label, 'change sequence diverges', `at change #${i}: ${what}; ${context(i)}`);
      return;
    }
    if (e.op !== r.op) {
      findings.add('append', label, 'change sequence diverges', `at change #${i}: audit ${describe(e)} vs DuckDB ${describeRow(r)}; ${context(i)}`);
      return;
    }
    const prevE = audit[i - 1];
    const prevR = rows[i - 1];
    if (prevE !== undefined && prevR !== undefined && (prevE.txn === e.txn) !== (prevR.position === r.position)) {
      findings.add('append', label, 'transaction grouping differs', `change #${i}: audit txn ${prevE.txn}→${e.txn}, DuckDB __position ${prevR.position}→${r.position}`);
    }
    if (e.op === 'truncate') fromSnapshot.clear();
    if (e.op === 'truncate' || e.image === null) continue;
    const expected = canonicalRow(e.image, table.classes);
    const key = keyOf(expected, table.keyColumns);
    const suspect = fromSnapshot.has(key) && e.op !== 'insert';
    fromSnapshot.delete(key);
    for (const [col, want] of Object.entries(expected)) {
      const got = r.image[col];
      if ((got ?? null) !== want) {
        findings.add(
          'append',
          label,
          `${e.op} image differs${suspect ? ' (its previous image is a snapshot row read after a crash hit the snapshot)' : ''}`,
          `change #${i} (${describe(e)}) column ${JSON.stringify(col)}: audit ${preview(want)} vs DuckDB ${col in r.image ? preview(got) : '(no such column)'}`,
        );
      }
    }
  }
}

function opCounts(ops: string[]): string {
  const counts = new Map<string, number>();
  for (const op of ops) counts.set(op, (counts.get(op) ?? 0) + 1);
  return `{${[...counts].map(([k, v]) => `${k}:${v}`).join(' ')}}`;
}
