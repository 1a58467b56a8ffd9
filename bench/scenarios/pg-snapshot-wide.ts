import type { Scenario } from '../context.js';
import { runSnapshot } from '../drivers.js';
import { pgReadTablesFloor } from '../floors.js';
import { createWideTables, dropPgBenchReplication, dropWideTables, PG_SCHEMA, pgBenchConnect, pgSource, wideTableNames } from '../pg-workload.js';
import { makeResult } from '../result.js';

/**
 * The history a batch cycle writes grows with the tables a pipeline names (the spec in every
 * activity input, per-table progress in every checkpoint): this measures it at 200 tables.
 */
export const pgSnapshotWide: Scenario = {
  name: 'pg-snapshot-wide',
  summary: 'the initial snapshot of 200 PostgreSQL tables in one pipeline, MERGE, until streaming begins; history per batch cycle and what makes it up; floor: PostgreSQL sending every row of each table as text',
  async run(ctx) {
    const { wideTables, wideRows } = ctx.sizes;
    const tables = wideTableNames(wideTables);
    const rows = wideTables * wideRows;
    const name = 'bench_pg_snapshot_wide';
    const pgc = await pgBenchConnect();
    try {
      const run = await runSnapshot({
        ctx,
        config: { name, source: pgSource(tables), mode: 'merge' },
        rows,
        fill: () => createWideTables(pgc, tables, wideRows),
        floor: () => pgReadTablesFloor(pgc, tables.map((t) => `${PG_SCHEMA}.${t}`)),
      });
      return [makeResult('pg-snapshot-wide', 'merge', rows, run, `SELECT * as text, ${wideTables} tables`, run.floor)];
    } finally {
      await dropPgBenchReplication(pgc, `ducktail_${name}`);
      await dropWideTables(pgc, tables);
      await pgc.end();
    }
  },
};
