/**
 * What `verifyPipeline` returns: plain JSON, so `ducktail verify --json` prints it as is and a
 * later repair can re-sync exactly the keys and ranges it names. Keys are texts in primary-key
 * column order (see `keyColumns`); no other row value ever appears here.
 */

/** How one key differs: `changed` (live on both sides, other values), `missing` (in the source, not live in DuckDB), `extra` (live in DuckDB, not in the source). */
export type DifferenceKind = 'changed' | 'missing' | 'extra';

export interface Difference {
  kind: DifferenceKind;
  /** The key's values as text, in `keyColumns` order (integers and decimals as digits, timestamps `YYYY-MM-DD HH:MM:SS.ffffff` in UTC, bytes as hex). */
  key: string[];
}

/**
 * A primary-key range `(from, to]`: rows whose key is after `from` (null: from the first) and at
 * or before `to` (null: to the last), in the order every side agrees on (numbers and times by
 * value, texts by their UTF-8 bytes).
 */
export interface KeyRange {
  from: string[] | null;
  to: string[] | null;
}

/** A range whose checksums differed, with the live rows counted in it on each side. */
export interface DifferingRange extends KeyRange {
  sourceRows: number;
  destinationRows: number;
  /**
   * True when every differing key in it is listed in `differences`; false when the comparison
   * stopped narrowing it (more than `maxDifferences` keys differ): re-sync the whole range.
   */
  resolved: boolean;
}

export interface TableVerifyResult {
  /** The source table, `schema.table` (`database.table` for MySQL). */
  table: string;
  /** Where it lives in DuckDB (`schema.table`), or null when the pipeline has not created it. */
  destinationTable: string | null;
  /** The primary-key columns (source names), the order of every `key`. */
  keyColumns: string[];
  /** Live rows counted in the first pass (while the pipeline runs, rows in flight make them differ). */
  sourceRows: number;
  destinationRows: number;
  /** True when no key differs (after the re-check, if one ran). */
  equal: boolean;
  /** The keys that differ, up to `maxDifferences`. */
  differences: Difference[];
  /** True when more keys differ than `differences` holds; `ranges` then cover the rest. */
  truncated: boolean;
  /** The ranges holding every difference (narrowed to at most a few hundred rows where resolved). */
  ranges: DifferingRange[];
  /** Columns left out of the checksums, as `table.column (type): why`. */
  notCompared: string[];
  /** Things worth knowing about this table (e.g. DuckDB marks it for re-sync). */
  notes: string[];
  /** Why the table could not be verified; then nothing else here is meaningful. */
  error: string | null;
}

/** How the re-check after catch-up went. */
export interface RecheckResult {
  /** Whether it waited for the pipeline to load what the source had (false: the pipeline does not run). */
  waited: boolean;
  /** True when the pipeline's loaded checkpoint reached the source position; null when it did not wait. */
  caughtUp: boolean | null;
  /** The source position waited for, and the pipeline's checkpoint when the wait ended. */
  target: string | null;
  checkpoint: string | null;
  waitedMs: number;
  /** Keys found differing in the first pass, and how many rounds of re-checks ran. */
  firstPassDifferences: number;
  rounds: number;
  note: string;
}

export interface VerifyResult {
  pipeline: string;
  source: string;
  destination: string;
  /** True when every table is equal and none had an error. */
  equal: boolean;
  tables: TableVerifyResult[];
  /** Present when the first pass found differences. */
  recheck: RecheckResult | null;
}
