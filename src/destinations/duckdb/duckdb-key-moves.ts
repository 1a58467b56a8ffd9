import type { Json } from '@duckdb/node-api';
import type { SqlRunner } from './duckdb-connection.js';
import { columnValue, duckColumn, keyIndexes, type SegmentPlan } from './duckdb-plan.js';
import { jsonText, quoteLiteral } from './duckdb-sql.js';
import type { WriteStyle } from './duckdb-tables.js';

/** One staged row as text. */
interface StagedRow {
  n: number;
  o: string;
  c: (string | null)[];
  u: number[] | null;
  k: (string | null)[] | null;
}

const KEYS_TABLE = '__ducktail_moved_keys';

/**
 * Fills in the values an update that changed the primary key did not send (PostgreSQL sends an
 * unchanged TOASTed value as "unchanged" even when the key changes): they are the values the row
 * had under its old key just before, from an earlier staged event of that key, else from the
 * table. Runs in event order, so chains (A→B, then B→C in one batch) resolve too. Afterwards such
 * rows send every column, and the merge or append treats them like any update of the new key.
 *
 * Rare, so done in JavaScript over only the keys involved; returns how many rows were filled.
 */
export async function resolveKeyMoves(db: SqlRunner, plan: SegmentPlan, style: WriteStyle): Promise<number> {
  const keys = keyIndexes(plan.schema);
  if (keys.length === 0) return 0;
  const moves = await stagedRows(db, plan.stage, `k IS NOT NULL AND u IS NOT NULL`);
  if (moves.length === 0) return 0;
  const keyOf = (row: StagedRow): string => JSON.stringify(keys.map((i) => row.c[i] ?? null));
  const needed = [...new Set(moves.flatMap((m) => m.u ?? []))].filter((i) => !keys.includes(i)).sort((a, b) => a - b);

  // Every staged event of the old keys, and of the keys those moved from in turn.
  const events = new Map<number, StagedRow>();
  let wanted = new Set(moves.map((m) => JSON.stringify(m.k)));
  const loaded = new Set<string>();
  while (wanted.size > 0) {
    for (const w of wanted) loaded.add(w);
    const rows = await stagedRowsForKeys(db, plan, keys, [...wanted]);
    wanted = new Set();
    for (const row of rows) {
      events.set(row.n, row);
      if (row.k !== null && !loaded.has(JSON.stringify(row.k))) wanted.add(JSON.stringify(row.k));
    }
  }
  for (const m of moves) events.set(m.n, m);
  const stored = await tableValues(db, plan, style, keys, needed, [...loaded]);

  // Replay in order: per key, the latest value of each needed column (undefined: the table's).
  const state = new Map<string, Map<number, string | null>>();
  const valueOf = (key: string, i: number): string | null => {
    const v = state.get(key)?.get(i);
    return v !== undefined ? v : (stored.get(key)?.get(i) ?? null);
  };
  const filled: StagedRow[] = [];
  for (const e of [...events.values()].sort((a, b) => a.n - b.n)) {
    const key = keyOf(e);
    if (e.k !== null && e.u !== null) {
      const from = JSON.stringify(e.k);
      for (const i of e.u) if (needed.includes(i)) e.c[i] = valueOf(from, i);
      e.u = e.u.filter((i) => !needed.includes(i));
      if (e.u.length === 0) e.u = null;
      filled.push(e);
    }
    if (e.k !== null) state.set(JSON.stringify(e.k), new Map(needed.map((i) => [i, null])));
    const values = e.o === 'd' ? new Map<number, string | null>() : new Map(state.get(key));
    if (e.o !== 'd') for (const i of needed) if (e.u === null || !e.u.includes(i)) values.set(i, e.c[i] ?? null);
    state.set(key, values);
  }
  for (const row of filled) {
    const list = (values: (string | number | null)[], type: string): string =>
      `CAST([${values.map((v) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : quoteLiteral(v))).join(', ')}] AS ${type})`;
    await db.run(
      `UPDATE ${plan.stage} SET c = ${list(row.c, 'VARCHAR[]')}, u = ${row.u === null ? 'NULL' : list(row.u, 'INTEGER[]')} WHERE n = ${row.n}`,
    );
  }
  return filled.length;
}

async function stagedRows(db: SqlRunner, stage: string, where: string): Promise<StagedRow[]> {
  return (await db.rows(`SELECT n, o, c, u, k FROM ${stage} WHERE ${where} ORDER BY n`)).map(toStaged);
}

/** Staged events whose (new) key is one of `keyJsons`. */
async function stagedRowsForKeys(db: SqlRunner, plan: SegmentPlan, keys: number[], keyJsons: string[]): Promise<StagedRow[]> {
  await loadKeys(db, keyJsons);
  const staged = `[${keys.map((i) => `s.c[${i + 1}]`).join(', ')}]`;
  const rows = await db.rows(
    `SELECT s.n, s.o, s.c, s.u, s.k FROM ${plan.stage} AS s SEMI JOIN ${KEYS_TABLE} AS w ON ${staged} = w.k ORDER BY s.n`,
  );
  return rows.map(toStaged);
}

/** The table's current text of columns `needed` for each key (MERGE: the row; APPEND: the latest row). */
async function tableValues(
  db: SqlRunner,
  plan: SegmentPlan,
  style: WriteStyle,
  keys: number[],
  needed: number[],
  keyJsons: string[],
): Promise<Map<string, Map<number, string | null>>> {
  await loadKeys(db, keyJsons);
  const match = keys.map((i, j) => `x.${duckColumn(plan, i)} = ${columnValue(plan, i, `w.k[${j + 1}]`)}`).join(' AND ');
  const latest = style === 'append' ? 'QUALIFY row_number() OVER (PARTITION BY w.k ORDER BY x.rowid DESC) = 1' : '';
  const rows = await db.rows(
    `SELECT w.k AS key, ${needed.map((i) => `${asStagedText(plan, i)} AS v${i}`).join(', ') || 'NULL AS none'}
       FROM ${plan.table.ref} AS x JOIN ${KEYS_TABLE} AS w ON ${match} ${latest}`,
  );
  const out = new Map<string, Map<number, string | null>>();
  for (const r of rows) {
    const key = JSON.stringify((r.key as (string | null)[] | null) ?? []);
    out.set(key, new Map(needed.map((i) => [i, asText(r[`v${i}`])])));
  }
  return out;
}

/** Column `index` of table row `x` as the text a capture would have staged for it. */
function asStagedText(plan: SegmentPlan, index: number): string {
  const col = `x.${duckColumn(plan, index)}`;
  switch (plan.schema.columns[index]?.encoding) {
    case 'hex':
      return `hex(${col})`;
    case 'json':
      return `CAST(to_json(${col}) AS VARCHAR)`;
    default:
      return `CAST(${col} AS VARCHAR)`;
  }
}

async function loadKeys(db: SqlRunner, keyJsons: string[]): Promise<void> {
  await db.run(`CREATE OR REPLACE TEMP TABLE ${KEYS_TABLE} (k VARCHAR[])`);
  for (let at = 0; at < keyJsons.length; at += 500) {
    const values = keyJsons.slice(at, at + 500).map((j) => {
      const key = JSON.parse(j) as (string | null)[];
      return `([${key.map((v) => (v === null ? 'NULL' : quoteLiteral(v))).join(', ')}]::VARCHAR[])`;
    });
    await db.run(`INSERT INTO ${KEYS_TABLE} VALUES ${values.join(', ')}`);
  }
}

function toStaged(r: Record<string, Json>): StagedRow {
  return {
    n: Number(r.n),
    o: asText(r.o) ?? '',
    c: ((r.c as Json[] | null) ?? []).map(asText),
    u: r.u === null ? null : (r.u as Json[]).map(Number),
    k: r.k === null ? null : (r.k as Json[]).map(asText),
  };
}

function asText(v: Json | undefined): string | null {
  return jsonText(v);
}
