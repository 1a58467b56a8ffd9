import { canonical, preview } from './canonical.js';
import { compareKeyed } from './compare-rows.js';
import type { DuckCopy } from './duck-file.js';
import { resolveDuckTable } from './duck-names.js';
import { showTable, type Findings } from './report.js';
import { classOf, keyOf, type Row, type TruthTable } from './truth.js';

/**
 * MERGE truth: the live rows (`NOT __deleted`) of each DuckDB table equal the source table's rows,
 * by primary key, in every column the source has now (columns dropped at the source are
 * ignored; a source column DuckDB lacks reads as NULL). Also: one row per key, and `__deleted`
 * never NULL.
 */
export async function compareMerge(file: DuckCopy, pipeline: string, schema: string, tables: TruthTable[], findings: Findings): Promise<void> {
  for (const truth of tables) {
    const label = showTable(schema, truth.name);
    const mapped = await resolveDuckTable(file, pipeline, schema, truth.name);
    if (mapped === null) {
      if (truth.rows.size > 0) findings.add('merge', label, 'table missing in DuckDB', `${truth.rows.size} source rows`);
      continue;
    }
    const read = await file.readRows(mapped.table, truth.columns.map((c) => mapped.column(c)), mapped.mapped);
    const flags = await file.readRows(mapped.table, ['__deleted'], true);
    const live = new Map<string, Row>();
    const seen = new Set<string>();
    for (const [n, r] of read.entries()) {
      const row: Row = {};
      truth.columns.forEach((c, i) => {
        const v = r.values[i];
        if (v !== undefined) row[c] = canonical(classOf(truth.classes, c), v);
      });
      const deleted = flags[n]?.values[0];
      const key = keyOf(row, truth.keyColumns);
      if (seen.has(key)) findings.add('merge', label, 'more than one DuckDB row per key', `key ${key}`);
      seen.add(key);
      if (deleted === null || deleted === undefined) {
        findings.add('merge', label, '__deleted is NULL or missing', `key ${key} (${preview(deleted)})`);
        continue;
      }
      if (canonical('bool', deleted) === 'false') live.set(key, row);
    }
    compareKeyed(
      { findings, where: 'merge', table: label, expectedName: 'source', actualName: 'DuckDB', columns: () => truth.columns },
      truth.rows,
      live,
    );
  }
}
