import type pg from 'pg';
import { TableNotFoundError } from '../../errors.js';
import { parseTableRef } from '../../model/table-name.js';

/** A table as `schema` + `name`. */
export interface TableRef {
  schema: string;
  name: string;
}

/** The configured table selection: exact `schema.table` names and `schema.*` wildcards. */
export class TableSelection {
  readonly exact: TableRef[] = [];
  readonly schemas: string[] = [];
  private readonly names = new Set<string>();

  constructor(tables: string[]) {
    for (const t of tables) {
      const ref = parseTableRef(t);
      if (ref === null) throw new Error(`not a table name: ${JSON.stringify(t)}`);
      if (ref.name === '*') this.schemas.push(ref.schema);
      else {
        this.exact.push(ref);
        this.names.add(`${ref.schema}.${ref.name}`);
      }
    }
  }

  /** True when changes of `schema.name` are captured (the publication may be wider). */
  has(schema: string, name: string): boolean {
    return this.schemas.includes(schema) || this.names.has(`${schema}.${name}`);
  }

  /**
   * Every selected table that exists now, sorted, without duplicates. Throws `TableNotFoundError`
   * for a named table or wildcard schema that does not exist, listing similar names.
   */
  async expand(client: pg.Client): Promise<TableRef[]> {
    const res = await client.query<{ nspname: string; relname: string }>(
      `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
        ORDER BY 1, 2`,
    );
    const all = res.rows.map((r) => ({ schema: r.nspname, name: r.relname }));
    const key = (t: TableRef): string => `${t.schema}.${t.name}`;
    const existing = new Set(all.map(key));
    for (const t of this.exact) {
      if (!existing.has(key(t))) {
        const similar = similarNames(key(t), all.map(key));
        throw new TableNotFoundError(
          `table ${key(t)} does not exist in the source database`,
          similar.length > 0 ? `did you mean ${similar.join(', ')}? fix source.tables` : 'create it or remove it from source.tables',
        );
      }
    }
    for (const s of this.schemas) {
      const ns = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [s]);
      if (ns.rowCount === 0) throw new TableNotFoundError(`schema ${s} (from ${s}.*) does not exist`, 'create it or fix source.tables');
    }
    return all.filter((t) => this.has(t.schema, t.name));
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
