import { countSql, lookupSql, rowsSql, splitSql, summarySql, type Statement, type TableSql } from './range-sql.js';
import type { KeyRange } from './verify-result.js';

export interface RangeSummary {
  rows: number;
  /** Sum of the rows' 60-bit hashes, as decimal digits. */
  checksum: string;
}

export interface RowHash {
  key: string[];
  hash: string;
}

/**
 * One side of a table comparison (the source table, or its DuckDB copy). Every method reads
 * only; each call sees one consistent state of its side, successive calls may see later ones.
 */
export interface TableSide {
  /** Live rows in `range`. */
  count(range: KeyRange): Promise<number>;
  /** Rows and checksum of each range, in order. */
  summarize(ranges: KeyRange[]): Promise<RangeSummary[]>;
  /** Keys that cut `range` (holding about `rows` rows) into `parts` parts of about equal rows, ascending. */
  splitPoints(range: KeyRange, rows: number, parts: number): Promise<string[][]>;
  /** Key and hash of every row of `range`. */
  rows(range: KeyRange): Promise<RowHash[]>;
  /** Key and hash of the rows with these keys (absent keys are left out). */
  lookup(keys: string[][]): Promise<RowHash[]>;
}

/** Runs a statement; every selected value comes back as text (or null). */
export type Exec = (statement: Statement) => Promise<(string | null)[][]>;

const LOOKUP_CHUNK = 200;

/** A `TableSide` over SQL in any dialect (see range-sql.ts). */
export class SqlTableSide implements TableSide {
  constructor(
    private readonly table: TableSql,
    private readonly exec: Exec,
  ) {}

  async count(range: KeyRange): Promise<number> {
    const [row] = await this.exec(countSql(this.table, range));
    return Number(row?.[0] ?? 0);
  }

  async summarize(ranges: KeyRange[]): Promise<RangeSummary[]> {
    const out: RangeSummary[] = [];
    for (const range of ranges) {
      const [row] = await this.exec(summarySql(this.table, range));
      out.push({ rows: Number(row?.[0] ?? 0), checksum: row?.[1] ?? '0' });
    }
    return out;
  }

  async splitPoints(range: KeyRange, rows: number, parts: number): Promise<string[][]> {
    if (parts < 2 || rows < 2) return [];
    const step = Math.ceil(rows / parts);
    const found = await this.exec(splitSql(this.table, range, step));
    return found.map((r) => r.map((v) => v ?? ''));
  }

  async rows(range: KeyRange): Promise<RowHash[]> {
    return toRowHashes(await this.exec(rowsSql(this.table, range)));
  }

  async lookup(keys: string[][]): Promise<RowHash[]> {
    const out: RowHash[] = [];
    for (let i = 0; i < keys.length; i += LOOKUP_CHUNK) {
      out.push(...toRowHashes(await this.exec(lookupSql(this.table, keys.slice(i, i + LOOKUP_CHUNK)))));
    }
    return out;
  }
}

function toRowHashes(rows: (string | null)[][]): RowHash[] {
  return rows.map((r) => ({ key: r.slice(0, -1).map((v) => v ?? ''), hash: r[r.length - 1] ?? '' }));
}

/** A side with no rows: a table the pipeline has not created in DuckDB (yet). */
export const EMPTY_SIDE: TableSide = {
  count: () => Promise.resolve(0),
  summarize: (ranges) => Promise.resolve(ranges.map(() => ({ rows: 0, checksum: '0' }))),
  splitPoints: () => Promise.resolve([]),
  rows: () => Promise.resolve([]),
  lookup: () => Promise.resolve([]),
};
