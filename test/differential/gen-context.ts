import type { Dialect } from './column-types.js';
import type { Features } from './features.js';
import type { NameSource } from './identifiers.js';
import type { ColumnModel, SourceModel, TableModel } from './model.js';
import type { Prng } from './prng.js';
import type { Col } from './statements.js';
import { genValue, type Val } from './values.js';
import { REV } from './model.js';

/** Everything a step builder needs; builders update `model` as they write statements. */
export interface GenContext {
  rng: Prng;
  dialect: Dialect;
  model: SourceModel;
  names: NameSource;
  features: Features;
}

export const col = (c: ColumnModel): Col => ({ name: c.name, type: c.type });

/** A new `rev` value: unique per statement, so no UPDATE is a no-op. */
export function nextRev(ctx: GenContext): string {
  return String(++ctx.model.rev);
}

/** A full row for `key`: the key, a new rev, generated values elsewhere. */
export function rowFor(ctx: GenContext, t: TableModel, key: Val[], overrides: ReadonlyMap<string, Val> = new Map()): Val[] {
  const rev = nextRev(ctx);
  let k = 0;
  return t.columns.map((c) => {
    if (c.key) return key[k++] ?? null;
    if (overrides.has(c.name)) return overrides.get(c.name) ?? null;
    if (c.name === REV) return rev;
    return genValue(ctx.rng, c.type, ctx.dialect);
  });
}

/** A random table, preferring ones with at least `minLive` live rows when there are any. */
export function pickTable(ctx: GenContext, minLive = 0): TableModel {
  const withRows = ctx.model.tables.filter((t) => t.live.size >= minLive);
  return ctx.rng.pick(withRows.length > 0 ? withRows : ctx.model.tables);
}

/** Up to `n` distinct live keys of `t`. */
export function liveKeys(ctx: GenContext, t: TableModel, n: number): Val[][] {
  const size = t.live.size;
  if (size === 0) return [];
  if (n >= size) return t.live.all();
  const picked = new Set<number>();
  while (picked.size < n) picked.add(ctx.rng.int(0, size - 1));
  return [...picked].map((i) => t.live.at(i));
}

/** Value columns an UPDATE may set (never the key, never `rev`, which is set anyway). */
export function settable(t: TableModel): ColumnModel[] {
  return t.valueColumns().filter((c) => c.name !== REV);
}
