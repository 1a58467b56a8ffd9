import type { Dialect } from './column-types.js';
import type { Trait } from './features.js';
import type { Prng } from './prng.js';

/**
 * Table and column names. With `hostile-names` they hold quotes, spaces, dots, unicode and SQL
 * keywords; with `case-names` PostgreSQL gets names that differ only in case (`"Mixed"` and
 * `"mixed"`, columns `"A"` and `"a"`), MariaDB only tables (its column names are case-insensitive).
 * Schema and database names stay plain. MariaDB identifiers are limited to the BMP (no emoji)
 * and may not end in a space.
 */

/** The names source columns may not clash with in DuckDB (Ducktail's bookkeeping columns). */
export const META_COLUMN_NAMES = ['__deleted', '__op', '__seq', '__position', '__commit_ts'] as const;

const HOSTILE_COLUMNS = ['col with space', 'dot.col', 'quo"te', "apo'st", 'select', 'order', 'ünï', '列 名', 'Upper', 'x-y', 'back`tick', 'group'];
const PLAIN_COLUMNS = ['c_space', 'c_dot', 'c_quote', 'c_apos', 'c_select', 'c_order', 'c_uni', 'c_cjk', 'c_upper', 'c_dash', 'c_tick', 'c_group'];

const HOSTILE_TABLES = ['new "t"', 'Upper Case', 't.dotted', 'order', 'таблица', 'group by'];

export class NameSource {
  private readonly hostile: boolean;
  private tables = 0;

  constructor(
    private readonly dialect: Dialect,
    traits: ReadonlySet<Trait>,
  ) {
    this.hostile = traits.has('hostile-names');
  }

  /** `hostile` when hostile names are on, else `plain`. */
  pick(hostile: string, plain: string): string {
    return this.hostile ? hostile : plain;
  }

  /**
   * A column name not in `used`, compared the way the source compares names (PostgreSQL exactly;
   * MariaDB case-insensitively). Bare pool names first, then numbered variants.
   */
  column(rng: Prng, used: ReadonlySet<string>): string {
    const pool = this.hostile ? HOSTILE_COLUMNS : PLAIN_COLUMNS;
    const taken = (n: string): boolean => [...used].some((u) => this.same(u, n));
    const free = pool.filter((n) => !taken(n));
    if (free.length > 0 && rng.chance(0.6)) return rng.pick(free);
    for (;;) {
      const name = `${rng.pick(pool)} ${rng.int(1, 9999)}`.replace(/ /g, this.hostile ? ' ' : '_');
      if (!taken(name)) return name;
    }
  }

  /** A new table name not in `used`. */
  table(rng: Prng, used: ReadonlySet<string>): string {
    for (;;) {
      this.tables++;
      const name = this.hostile ? `${rng.pick(HOSTILE_TABLES)} ${this.tables}` : `t_new_${this.tables}`;
      if (![...used].some((u) => u === name)) return name;
    }
  }

  /** True when the source treats `a` and `b` as the same column name. */
  same(a: string, b: string): boolean {
    return this.dialect === 'mysql' ? a.toLowerCase() === b.toLowerCase() : a === b;
  }
}
