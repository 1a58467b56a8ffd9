import { VALUE_TYPES, type ColumnType } from './column-types.js';
import type { GenContext } from './gen-context.js';
import { META_COLUMN_NAMES } from './identifiers.js';
import { REV, TableModel, type ColumnModel } from './model.js';

/**
 * The tables that exist before the pipelines start, and the shape of tables created mid-stream.
 * `items` has every column type and a large text column (TOAST on PostgreSQL); the others bring
 * composite and text keys and the identifier tricks the traits ask for.
 */

const INT: ColumnType = { base: 'int' };
const BIGINT: ColumnType = { base: 'bigint' };
const TEXT: ColumnType = { base: 'text' };
const VC40: ColumnType = { base: 'varchar', n: 40 };
const key = (name: string, type: ColumnType): ColumnModel => ({ name, type, key: true });
const val = (name: string, type: ColumnType): ColumnModel => ({ name, type, key: false });
const rev = val(REV, BIGINT);

export function initialTables(ctx: GenContext): TableModel[] {
  const n = ctx.names;
  const traits = ctx.features.traits;
  const shapes: [string, ColumnModel[]][] = [
    [
      'items',
      [
        key('id', INT), rev, val('n', INT), val('amount', { base: 'numeric', p: 12, s: 2 }), val('label', VC40),
        val('note', TEXT), val('big', TEXT), val('flag', { base: 'bool' }), val('at', { base: 'ts' }),
        val('day', { base: 'date' }), val('doc', { base: 'json' }), val('raw', { base: 'bytes' }),
      ],
    ],
    [
      n.pick('odd "name".x y', 'odd_name'),
      [
        key('k1', INT), key(n.pick('k 2', 'k2'), VC40), rev, val(n.pick('dot.col', 'c_dot'), TEXT),
        val(n.pick('quo"te', 'c_quote'), INT), val(n.pick('ünï', 'c_uni'), VC40), val('at', { base: 'ts' }),
      ],
    ],
    [n.pick('select', 'kw_select'), [key('id', INT), rev, val(n.pick('order', 'c_order'), INT), val(n.pick('from', 'c_from'), TEXT), val('day', { base: 'date' })]],
    [n.pick('ünï 表', 'uni_t'), [key(n.pick('ключ', 'k'), VC40), rev, val('doc', { base: 'json' }), val('raw', { base: 'bytes' }), val('flag', { base: 'bool' })]],
  ];
  if (traits.has('case-names')) {
    const pair: ColumnModel[] = ctx.dialect === 'pg' ? [val('A', INT), val('a', INT)] : [val('A', INT), val('b', INT)];
    shapes.push(['Mixed', [key('id', BIGINT), rev, val('label', TEXT), ...pair]]);
    shapes.push(['mixed', [key('id', INT), rev, val('label', VC40), val('amount', { base: 'numeric', p: 12, s: 2 })]]);
  }
  if (traits.has('meta-columns')) {
    const types: ColumnType[] = [{ base: 'bool' }, VC40, INT, TEXT, { base: 'ts' }];
    shapes.push(['meta', [key('id', INT), rev, ...META_COLUMN_NAMES.map((name, i) => val(name, types[i]!))]]);
  }
  return shapes.map(([name, columns], i) => new TableModel(i + 1, name, columns));
}

/** A table created mid-stream: an int or (int, text) key, `rev`, 2–6 columns of random types. */
export function newTableShape(ctx: GenContext, id: number): TableModel {
  const { rng, names } = ctx;
  const used = new Set<string>([REV]);
  const columns: ColumnModel[] = [];
  const k1 = names.pick('Id', 'id');
  columns.push(key(k1, INT));
  used.add(k1);
  if (rng.chance(0.3)) {
    const k2 = names.column(rng, used);
    used.add(k2);
    columns.push(key(k2, VC40));
  }
  columns.push(rev);
  for (let i = rng.int(2, 6); i > 0; i--) {
    const name = names.column(rng, used);
    used.add(name);
    columns.push(val(name, rng.pick(VALUE_TYPES)));
  }
  return new TableModel(id, names.table(rng, new Set(ctx.model.tables.map((t) => t.name))), columns);
}
