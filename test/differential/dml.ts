import { col, liveKeys, nextRev, pickTable, rowFor, settable, type GenContext } from './gen-context.js';
import { REV, type Key, type TableModel } from './model.js';
import type { Stmt } from './statements.js';
import { genValue, toastValue, type Val } from './values.js';

/**
 * Row-level statement builders. Each writes one statement that succeeds against the source as
 * the model describes it, and updates the model to match.
 */

export function insertRows(ctx: GenContext, t: TableModel, n: number, overrides?: ReadonlyMap<string, Val>): Stmt {
  const rows: Val[][] = [];
  for (let i = 0; i < n; i++) {
    const k = t.freshKey();
    rows.push(rowFor(ctx, t, k, overrides));
    t.insertKey(k);
  }
  return { kind: 'insert', table: t.name, cols: t.columns.map(col), rows };
}

/** INSERT of keys that were deleted before (or a fresh insert when none were). */
export function reinsertRows(ctx: GenContext, t: TableModel): Stmt {
  const deleted = t.deleted.all();
  if (deleted.length === 0) return insertRows(ctx, t, 1);
  const keys = ctx.rng.sample(deleted, ctx.rng.int(1, 2));
  for (const k of keys) t.insertKey(k);
  return { kind: 'insert', table: t.name, cols: t.columns.map(col), rows: keys.map((k) => rowFor(ctx, t, k)) };
}

/** An upsert of 1–3 distinct keys: live ones take the update path, fresh and deleted ones the insert path. */
export function upsertRows(ctx: GenContext, t: TableModel): Stmt {
  const { rng } = ctx;
  const keys: Key[] = [];
  const seen = new Set<string>();
  for (let i = rng.int(1, 3); i > 0; i--) {
    const pool = rng.chance(0.6) ? liveKeys(ctx, t, 1) : rng.chance(0.5) ? t.deleted.all() : [];
    const k = pool.length > 0 ? rng.pick(pool) : t.freshKey();
    if (seen.has(JSON.stringify(k))) continue;
    seen.add(JSON.stringify(k));
    keys.push(k);
  }
  const rows = keys.map((k) => rowFor(ctx, t, k));
  for (const k of keys) t.insertKey(k);
  const others = settable(t);
  const update = [REV, ...rng.sample(others, rng.int(0, others.length)).map((c) => c.name)];
  return { kind: 'upsert', table: t.name, cols: t.columns.map(col), rows, key: t.keyColumns().map((c) => c.name), update };
}

/** UPDATE of up to `n` live rows: `rev` and 0–3 other columns, the same values for every row. */
export function updateRows(
  ctx: GenContext,
  t: TableModel,
  n: number,
  options: { avoid?: string; set?: Map<string, Val>; keys?: Key[] } = {},
): Stmt | null {
  const keys = options.keys ?? liveKeys(ctx, t, n);
  if (keys.length === 0) return null;
  const { rng } = ctx;
  const fixed = options.set ?? new Map<string, Val>();
  const candidates = settable(t).filter((c) => c.name !== options.avoid && !fixed.has(c.name));
  const set = [{ col: col(t.column(REV)!), value: nextRev(ctx) as Val }];
  for (const [name, value] of fixed) {
    const c = t.column(name);
    if (c !== undefined) set.push({ col: col(c), value });
  }
  for (const c of rng.sample(candidates, rng.int(0, 3))) set.push({ col: col(c), value: genValue(rng, c.type, ctx.dialect) });
  return { kind: 'update', table: t.name, set, key: t.keyColumns().map(col), keys };
}

/**
 * UPDATE that changes the primary key of one live row (its first key column; composite keys keep
 * the rest). The old key becomes deleted; `avoid` names a column the UPDATE must not touch.
 */
export function updateKey(ctx: GenContext, t: TableModel, from?: Key, avoid?: string): Stmt | null {
  const old = from ?? liveKeys(ctx, t, 1)[0];
  if (old === undefined) return null;
  const keyCols = t.keyColumns();
  const fresh = t.freshKey();
  const next: Key = [fresh[0] ?? null, ...old.slice(1)];
  const set = [{ col: col(keyCols[0]!), value: next[0] ?? null }, { col: col(t.column(REV)!), value: nextRev(ctx) as Val }];
  const other = settable(t).filter((c) => c.name !== avoid);
  if (other.length > 0 && ctx.rng.chance(0.5)) {
    const c = ctx.rng.pick(other);
    set.push({ col: col(c), value: genValue(ctx.rng, c.type, ctx.dialect) });
  }
  t.deleteKey(old);
  t.insertKey(next);
  return { kind: 'update', table: t.name, set, key: keyCols.map(col), keys: [old] };
}

export function deleteRows(ctx: GenContext, t: TableModel, n: number): Stmt | null {
  const keys = liveKeys(ctx, t, n);
  if (keys.length === 0) return null;
  for (const k of keys) t.deleteKey(k);
  return { kind: 'delete', table: t.name, key: t.keyColumns().map(col), keys };
}

/** One statement of the given DML kind on a random table; falls back to an insert when it cannot apply. */
export function dmlStatement(ctx: GenContext, kind: string, table?: TableModel): Stmt {
  const { rng } = ctx;
  const t = table ?? pickTable(ctx, kind === 'insert' || kind === 'reinsert' || kind === 'upsert' ? 0 : 1);
  let s: Stmt | null;
  switch (kind) {
    case 'upsert':
      s = upsertRows(ctx, t);
      break;
    case 'update':
      s = updateRows(ctx, t, rng.chance(0.7) ? 1 : rng.int(2, 8));
      break;
    case 'update-key':
      s = updateKey(ctx, t);
      break;
    case 'delete':
      s = deleteRows(ctx, t, rng.chance(0.7) ? 1 : rng.int(2, 6));
      break;
    case 'reinsert':
      s = reinsertRows(ctx, t);
      break;
    default:
      s = null;
  }
  return s ?? insertRows(ctx, t, rng.chance(0.7) ? 1 : rng.int(2, 5));
}

/** The text column used for TOASTed values, if the table has one. */
export function toastColumn(t: TableModel): string | undefined {
  return (t.column('big') ?? settable(t).find((c) => c.type.base === 'text'))?.name;
}

/**
 * Rows with 8–20 KB values in a text column, then UPDATEs that do not touch it (PostgreSQL sends
 * "unchanged toast"), sometimes one that changes the key of such a row, sometimes a DELETE.
 * Returns the transactions, each a list of statements.
 */
export function toastTxns(ctx: GenContext): Stmt[][] {
  const { rng } = ctx;
  const tables = ctx.model.tables.filter((t) => toastColumn(t) !== undefined);
  if (tables.length === 0) return [[insertRows(ctx, pickTable(ctx), 1)]];
  const t = rng.pick(tables);
  const big = toastColumn(t)!;
  const txns: Stmt[][] = [];
  let keys: Key[];
  if (t.live.size > 0 && rng.chance(0.4)) {
    keys = liveKeys(ctx, t, rng.int(1, 2));
    const u = updateRows(ctx, t, 0, { keys, set: new Map([[big, toastValue(rng)]]) });
    if (u !== null) txns.push([u]);
  } else {
    const before = new Set(t.live.all().map((k) => JSON.stringify(k)));
    const n = rng.int(1, 3);
    const rows: Val[][] = [];
    for (let i = 0; i < n; i++) {
      const k = t.freshKey();
      rows.push(rowFor(ctx, t, k, new Map([[big, toastValue(rng)]])));
      t.insertKey(k);
    }
    txns.push([{ kind: 'insert', table: t.name, cols: t.columns.map(col), rows }]);
    keys = t.live.all().filter((k) => !before.has(JSON.stringify(k)));
  }
  for (let i = rng.int(1, 2); i > 0; i--) {
    const u = keys.length === 0 ? null : updateRows(ctx, t, 0, { avoid: big, keys: rng.sample(keys, rng.int(1, keys.length)) });
    if (u !== null) txns.push([u]);
  }
  if (rng.chance(0.5) && keys.length > 0) {
    const victim = rng.pick(keys);
    const u = updateKey(ctx, t, victim, big);
    if (u !== null) {
      txns.push([u]);
      keys = keys.filter((k) => k !== victim);
    }
  }
  if (rng.chance(0.3) && keys.length > 0) {
    const victim = rng.pick(keys);
    t.deleteKey(victim);
    txns.push([{ kind: 'delete', table: t.name, key: t.keyColumns().map(col), keys: [victim] }]);
  }
  return txns;
}
