import type { BenchContext, Scenario } from '../context.js';
import { runSnapshot } from '../drivers.js';
import { pgReadFloor } from '../floors.js';
import { createItems, dropItems, dropPgBenchReplication, fillItems, PG_SCHEMA, pgBenchConnect, pgSource } from '../pg-workload.js';
import { makeResult, type BenchResult } from '../result.js';

export const pgSnapshot: Scenario = {
  name: 'pg-snapshot',
  summary: 'the initial snapshot of a PostgreSQL table, MERGE and APPEND, until streaming begins; floor: PostgreSQL sending every row as text in one SELECT',
  async run(ctx) {
    return [await snapshotPg(ctx, 'merge'), await snapshotPg(ctx, 'append')];
  },
};

async function snapshotPg(ctx: BenchContext, mode: 'merge' | 'append'): Promise<BenchResult> {
  const { rows } = ctx.sizes;
  const table = `snapshot_${mode}`;
  const name = `bench_pg_snapshot_${mode}`;
  const pgc = await pgBenchConnect();
  try {
    const run = await runSnapshot({
      ctx,
      config: { name, source: pgSource([table]), mode },
      rows,
      fill: async () => {
        await createItems(pgc, table);
        await fillItems(pgc, table, rows);
      },
      floor: () => pgReadFloor(pgc, `${PG_SCHEMA}.${table}`),
    });
    return makeResult('pg-snapshot', mode, rows, run, 'SELECT * as text', run.floor);
  } finally {
    await dropPgBenchReplication(pgc, `ducktail_${name}`);
    await dropItems(pgc, table);
    await pgc.end();
  }
}
