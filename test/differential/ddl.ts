import { DEFAULTABLE_TYPES, VALUE_TYPES, widenings } from './column-types.js';
import { deleteRows, insertRows, updateRows } from './dml.js';
import { col, pickTable, settable, type GenContext } from './gen-context.js';
import { REV, type ColumnModel, type TableModel } from './model.js';
import { newTableShape } from './shapes.js';
import type { Stmt } from './statements.js';
import { genDefault, type Val } from './values.js';

/**
 * Schema-change builders. Each returns transactions (lists of statements): the DDL, then a few
 * INSERTs that use the new shape right away, so Ducktail sees the change in the same capture
 * window. Only INSERTs follow the DDL here (DML-then-DDL is `ddl-after-update`'s business), so
 * each of these can be run in isolation.
 */

const MAX_TABLES = 12;
const MAX_COLUMNS = 22;

function postlude(ctx: GenContext, t: TableModel, overrides?: ReadonlyMap<string, Val>): Stmt[] {
  return [insertRows(ctx, t, ctx.rng.int(1, 3), overrides)];
}

/**
 * A new column name for `t`. With `case-names` on PostgreSQL it is sometimes the case-variant of
 * an existing column (`a` next to `A`), which DuckDB cannot tell apart.
 */
function newColumnName(ctx: GenContext, t: TableModel): string {
  if (ctx.dialect === 'pg' && ctx.features.traits.has('case-names') && ctx.rng.chance(0.3)) {
    const variants = t.columns
      .map((c) => (c.name === c.name.toLowerCase() ? c.name.toUpperCase() : c.name.toLowerCase()))
      .filter((v) => !t.everNames.has(v));
    if (variants.length > 0) return ctx.rng.pick(variants);
  }
  return ctx.names.column(ctx.rng, t.everNames);
}

/** The ADD COLUMN statement for a new column of `t` (the model gains the column). */
function addColumnStmt(ctx: GenContext, t: TableModel, withDefault: boolean): { stmt: Stmt; column: ColumnModel } {
  const type = ctx.rng.pick(withDefault ? DEFAULTABLE_TYPES : VALUE_TYPES);
  const column: ColumnModel = { name: newColumnName(ctx, t), type, key: false };
  const stmt: Stmt = { kind: 'add-column', table: t.name, column: col(column) };
  if (withDefault) stmt.dflt = genDefault(ctx.rng, type, ctx.dialect);
  t.columns.push(column);
  t.remember(column);
  return { stmt, column };
}

export function addColumn(ctx: GenContext, withDefault: boolean, table?: TableModel): Stmt[][] {
  const t = table ?? pickTable(ctx);
  if (t.columns.length >= MAX_COLUMNS) return dropColumn(ctx, t);
  return [[addColumnStmt(ctx, t, withDefault).stmt], postlude(ctx, t)];
}

export function dropColumn(ctx: GenContext, table?: TableModel): Stmt[][] {
  const t = table ?? pickTable(ctx);
  const candidates = settable(t);
  if (candidates.length === 0) return addColumn(ctx, false, t);
  const victim = ctx.rng.pick(candidates);
  t.columns = t.columns.filter((c) => c !== victim);
  return [[{ kind: 'drop-column', table: t.name, column: victim.name }], postlude(ctx, t)];
}

export function renameColumn(ctx: GenContext): Stmt[][] {
  const t = pickTable(ctx);
  const candidates = settable(t);
  if (candidates.length === 0) return addColumn(ctx, false, t);
  const victim = ctx.rng.pick(candidates);
  const to = ctx.names.column(ctx.rng, t.everNames);
  const from = victim.name;
  victim.name = to;
  t.remember(victim);
  t.renames.set(from, to);
  return [[{ kind: 'rename-column', table: t.name, from, to }], postlude(ctx, t)];
}

/** int → bigint, varchar(n) → varchar(4n) or text, numeric(p,s) → numeric(p+6,s); keys included. */
export function widenColumn(ctx: GenContext): Stmt[][] {
  const all = ctx.model.tables.flatMap((t) => t.columns.filter((c) => c.name !== REV && widenings(c.type, c.key).length > 0).map((c) => [t, c] as const));
  if (all.length === 0) return addColumn(ctx, false);
  const [t, c] = ctx.rng.pick(all);
  c.type = ctx.rng.pick(widenings(c.type, c.key));
  return [[{ kind: 'alter-type', table: t.name, column: c.name, to: c.type, key: c.key }], postlude(ctx, t)];
}

export function createTable(ctx: GenContext): Stmt[][] {
  if (ctx.model.tables.length >= MAX_TABLES) return [[insertRows(ctx, pickTable(ctx), 1)]];
  const t = newTableShape(ctx, Math.max(...ctx.model.tables.map((x) => x.id)) + 1);
  ctx.model.tables.push(t);
  const create: Stmt = { kind: 'create-table', table: t.name, columns: t.columns.map((c) => ({ ...col(c), key: c.key })) };
  const n = ctx.rng.chance(0.15) ? 0 : ctx.rng.int(1, 20);
  return n === 0 ? [[create]] : [[create], [insertRows(ctx, t, n)]];
}

/**
 * UPDATE (or DELETE) rows of a table, ALTER TABLE … ADD COLUMN, then more DML of it, with no pause:
 * the three land in one capture batch. On PostgreSQL they are sometimes one transaction.
 */
export function ddlAfterUpdate(ctx: GenContext): Stmt[][] {
  const { rng } = ctx;
  const roomy = ctx.model.tables.filter((x) => x.live.size > 0 && x.columns.length < MAX_COLUMNS);
  const t = roomy.length > 0 ? rng.pick(roomy) : pickTable(ctx, 1);
  const before = (rng.chance(0.3) ? deleteRows(ctx, t, rng.int(1, 3)) : updateRows(ctx, t, rng.int(1, 5))) ?? insertRows(ctx, t, 1);
  if (t.columns.length >= MAX_COLUMNS) {
    const [[drop], insert] = dropColumn(ctx, t) as [[Stmt], Stmt[]];
    return [[before], [drop], insert];
  }
  const { stmt: ddl, column: added } = addColumnStmt(ctx, t, rng.chance(0.3));
  const after: Stmt[] = [];
  const u = updateRows(ctx, t, rng.int(1, 5), { set: new Map([[added.name, genDefault(rng, added.type, ctx.dialect)]]) });
  if (u !== null) after.push(u);
  after.push(insertRows(ctx, t, rng.int(1, 2)));
  const txns = [[before], [ddl], after];
  return ctx.dialect === 'pg' && rng.chance(0.3) ? [txns.flat()] : txns;
}
