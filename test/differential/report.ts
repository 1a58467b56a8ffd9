/**
 * Differences found by a run, grouped by where (MERGE, APPEND, the audit self-check, the
 * pipeline, the worker) and table, with a few examples each. Examples carry keys and shortened
 * values only.
 */
export interface Divergence {
  where: 'merge' | 'append' | 'audit' | 'pipeline' | 'worker';
  table: string;
  kind: string;
  count: number;
  examples: string[];
}

/** Collects divergences, keeping at most `limit` examples per (where, table, kind). */
export class Findings {
  readonly list: Divergence[] = [];

  constructor(private readonly limit = 5) {}

  add(where: Divergence['where'], table: string, kind: string, example: string): void {
    let d = this.list.find((x) => x.where === where && x.table === table && x.kind === kind);
    if (d === undefined) {
      d = { where, table, kind, count: 0, examples: [] };
      this.list.push(d);
    }
    d.count++;
    if (d.examples.length < this.limit) d.examples.push(example);
  }

  get empty(): boolean {
    return this.list.length === 0;
  }
}

const LABEL: Record<Divergence['where'], string> = {
  pipeline: 'PIPELINE',
  worker: 'WORKER',
  merge: 'MERGE',
  append: 'APPEND',
  audit: 'TESTER SELF-CHECK (audit log vs source)',
};

/** Text for a failure message: pipeline and worker problems first, then per mode and table. */
export function formatFindings(list: readonly Divergence[], maxGroups = 40): string {
  const order: Divergence['where'][] = ['pipeline', 'worker', 'audit', 'merge', 'append'];
  const sorted = [...list].sort((a, b) => order.indexOf(a.where) - order.indexOf(b.where));
  const lines: string[] = [];
  for (const d of sorted.slice(0, maxGroups)) {
    lines.push(`${LABEL[d.where]} ${d.table === '' ? '' : `${d.table}: `}${d.kind} (${d.count})`);
    for (const e of d.examples) lines.push(`    ${e.replace(/\n\s*/g, '\n      ')}`);
  }
  if (sorted.length > maxGroups) lines.push(`… and ${sorted.length - maxGroups} more groups`);
  return lines.join('\n');
}

/** A table name as the source spells it, quoted so case and spaces show. */
export function showTable(schema: string, table: string): string {
  return `${schema}.${JSON.stringify(table)}`;
}
