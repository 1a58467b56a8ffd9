import type { RangeSummary, RowHash, TableSide } from './table-side.js';
import type { Difference, DifferingRange, KeyRange } from './verify-result.js';

export interface CompareOptions {
  /** A differing range of at most this many rows (on either side) is compared key by key. */
  leafRows: number;
  /** A larger one is cut into this many parts. */
  fanout: number;
  /** Stop narrowing once this many differing keys are known (the rest stay as ranges). */
  maxDifferences: number;
  /** Say what is going on (counts and ranges only, never values). */
  progress?: (message: string) => void;
}

export const DEFAULT_COMPARE: CompareOptions = { leafRows: 500, fanout: 16, maxDifferences: 10_000 };

/** A differing key and the range it was found in. */
export interface FoundKey extends Difference {
  range: DifferingRange;
}

export interface CompareOutcome {
  /** Rows per side in the ranges compared (as first summarised). */
  sourceRows: number;
  destinationRows: number;
  found: FoundKey[];
  /** Every differing range: those holding `found` keys and those not narrowed to keys (`resolved` false). */
  ranges: DifferingRange[];
  /** More keys differ than `found` holds (see `DifferingRange.resolved`). */
  truncated: boolean;
}

/** Narrowing stops after this many rounds even if a range is still large (it is then compared key by key). */
const MAX_ROUNDS = 24;

/** The key as one string, for matching rows of both sides. */
export const keyId = (key: string[]): string => JSON.stringify(key);

const same = (a: RangeSummary, b: RangeSummary): boolean => a.rows === b.rows && a.checksum === b.checksum;

/** `range` cut at `points` (ascending keys inside it). */
export function subranges(range: KeyRange, points: string[][]): KeyRange[] {
  const bounds = [range.from, ...points, range.to];
  const out: KeyRange[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) out.push({ from: bounds[i]!, to: bounds[i + 1]! });
  return out;
}

/**
 * Compares `ranges` of a table on both sides by checksums computed on each side; a differing
 * range is cut into `fanout` parts at keys taken from the side holding more rows in it, round by
 * round, until it holds at most `leafRows` rows; then keys and row hashes of both sides name each
 * differing key. Equal ranges transfer nothing but their count and checksum.
 */
export async function compareRanges(source: TableSide, dest: TableSide, ranges: KeyRange[], options: CompareOptions): Promise<CompareOutcome> {
  const out: CompareOutcome = { sourceRows: 0, destinationRows: 0, found: [], ranges: [], truncated: false };
  let pending = ranges;
  for (let round = 0; pending.length > 0; round++) {
    const [s, d] = await Promise.all([source.summarize(pending), dest.summarize(pending)]);
    if (round === 0) {
      out.sourceRows = s.reduce((n, x) => n + x.rows, 0);
      out.destinationRows = d.reduce((n, x) => n + x.rows, 0);
    }
    const next: KeyRange[] = [];
    let differing = 0;
    for (let i = 0; i < pending.length; i++) {
      const range = pending[i]!;
      const src = s[i]!;
      const dst = d[i]!;
      if (same(src, dst)) continue;
      differing++;
      const rows = Math.max(src.rows, dst.rows);
      const found: DifferingRange = { ...range, sourceRows: src.rows, destinationRows: dst.rows, resolved: false };
      if (out.found.length >= options.maxDifferences) {
        out.truncated = true;
        out.ranges.push(found);
      } else if (rows <= options.leafRows || round >= MAX_ROUNDS) {
        await compareLeaf(source, dest, found, out, options.maxDifferences);
      } else {
        const splitter = src.rows >= dst.rows ? source : dest;
        next.push(...subranges(range, await splitter.splitPoints(range, rows, options.fanout)));
      }
    }
    options.progress?.(`round ${round + 1}: ${pending.length} ranges, ${differing} differ, ${out.found.length} keys found`);
    pending = next;
  }
  return out;
}

/** Compares a small range key by key, adding what differs. */
async function compareLeaf(source: TableSide, dest: TableSide, range: DifferingRange, out: CompareOutcome, max: number): Promise<void> {
  const [s, d] = await Promise.all([source.rows(range), dest.rows(range)]);
  const found = diffRows(s, d);
  const room = max - out.found.length;
  out.found.push(...found.slice(0, room).map((f) => ({ ...f, range })));
  range.resolved = found.length <= room;
  if (!range.resolved) out.truncated = true;
  if (found.length > 0 || !range.resolved) out.ranges.push(range);
}

/**
 * The keys that differ between two sides' rows (key and hash): missing in DuckDB, extra there,
 * or changed. A key DuckDB holds twice counts as changed (or extra, when the source lacks it).
 */
export function diffRows(source: RowHash[], dest: RowHash[]): Difference[] {
  const destByKey = new Map<string, RowHash>();
  const twice = new Set<string>();
  for (const r of dest) {
    const id = keyId(r.key);
    if (destByKey.has(id)) twice.add(id);
    destByKey.set(id, r);
  }
  const sourceKeys = new Set<string>();
  const out: Difference[] = [];
  for (const r of source) {
    const id = keyId(r.key);
    sourceKeys.add(id);
    const other = destByKey.get(id);
    if (other === undefined) out.push({ kind: 'missing', key: r.key });
    else if (other.hash !== r.hash || twice.has(id)) out.push({ kind: 'changed', key: r.key });
  }
  for (const [id, r] of destByKey) if (!sourceKeys.has(id)) out.push({ kind: 'extra', key: r.key });
  return out;
}

/** Orders keys for people: column by column, integers by value, anything else as text. */
export function compareKeys(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (/^-?\d+$/.test(x) && /^-?\d+$/.test(y)) return BigInt(x) < BigInt(y) ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}
