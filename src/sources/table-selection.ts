import { TableNotFoundError } from '../errors.js';
import { WATERMARK_TABLE } from './backfill.js';
import { parseTableRef, tableKey, type TableRef } from '../model/table-name.js';

export type { TableRef } from '../model/table-name.js';

/**
 * The configured `source.tables` of any source: exact `schema.table` names (`database.table` for
 * MySQL) and `schema.*` wildcards (every table of the schema, now and later).
 */
export class TableSelection {
  /** The tables named one by one. */
  readonly exact: TableRef[] = [];
  /** The schemas selected whole (`schema.*`). */
  readonly wildcards: string[] = [];
  private readonly names = new Set<string>();

  constructor(readonly patterns: string[]) {
    for (const p of patterns) {
      const ref = parseTableRef(p);
      if (ref === null) throw new Error(`not a table name: ${JSON.stringify(p)}`);
      if (ref.name === '*') {
        if (!this.wildcards.includes(ref.schema)) this.wildcards.push(ref.schema);
      } else if (!this.names.has(tableKey(ref))) {
        this.exact.push(ref);
        this.names.add(tableKey(ref));
      }
    }
  }

  /** True when changes of `schema.name` are captured. */
  includes(schema: string, name: string): boolean {
    if (name === WATERMARK_TABLE) return false; // the re-sync's own watermarks (MySQL)
    return this.wildcards.includes(schema) || this.names.has(`${schema}.${name}`);
  }

  /** True when `schema.name` is named one by one (not only through a wildcard). */
  named(schema: string, name: string): boolean {
    return this.names.has(`${schema}.${name}`) && !this.wildcards.includes(schema);
  }

  /** Every schema the selection reads from, named or wildcard. */
  get schemas(): string[] {
    return [...new Set([...this.wildcards, ...this.exact.map((t) => t.schema)])];
  }

  /**
   * The selected tables among `existing` (every table of the source, or at least of `schemas`),
   * sorted. Throws `TableNotFoundError` for a table named one by one that is not there, listing
   * similar names; `where` (e.g. `host:port`) goes into that message.
   */
  pick(existing: TableRef[], where?: string): TableRef[] {
    const all = existing.map(tableKey);
    const present = new Set(all);
    for (const t of this.exact) {
      if (present.has(tableKey(t))) continue;
      const similar = similarNames(tableKey(t), all);
      throw new TableNotFoundError(
        `table ${tableKey(t)} does not exist in the source database${where === undefined ? '' : ` at ${where}`}`,
        similar.length > 0 ? `did you mean ${similar.join(', ')}? fix source.tables` : 'create it or remove it from source.tables',
      );
    }
    return existing.filter((t) => this.includes(t.schema, t.name)).sort((a, b) => (tableKey(a) < tableKey(b) ? -1 : tableKey(a) > tableKey(b) ? 1 : 0));
  }
}

/** Up to 5 names close to `wanted`: same table name in another schema, or a small edit distance. */
export function similarNames(wanted: string, candidates: string[]): string[] {
  const wantedName = wanted.slice(wanted.indexOf('.') + 1).toLowerCase();
  const scored = candidates.map((c) => {
    const name = c.slice(c.indexOf('.') + 1).toLowerCase();
    const d = Math.min(editDistance(wanted.toLowerCase(), c.toLowerCase()), name === wantedName ? 0 : editDistance(wantedName, name));
    return { c, d };
  });
  const limit = Math.max(2, Math.floor(wantedName.length / 3));
  return scored
    .filter((s) => s.d <= limit)
    .sort((a, b) => a.d - b.d || (a.c < b.c ? -1 : 1))
    .slice(0, 5)
    .map((s) => s.c);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
