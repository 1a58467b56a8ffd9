import type { BenchContext, Scenario } from '../context.js';
import { drainBacklog } from '../drivers.js';
import { pgDecodeFloor } from '../floors.js';
import { createFloorSlot, createItems, dropItems, dropPgBenchReplication, pgBenchConnect, pgSource, writeBacklog } from '../pg-workload.js';
import { makeResult, type BenchResult } from '../result.js';

export const PG_DECODE_FLOOR = 'pgoutput decode (SQL peek)';

export const pgBacklog: Scenario = {
  name: 'pg-backlog',
  summary: 'a PostgreSQL backlog (5 inserts : 3 updates : 1 delete) drained by a fresh worker, MERGE and APPEND; floor: PostgreSQL decoding it with pgoutput',
  async run(ctx) {
    return [await drainPgBacklog(ctx, 'merge'), await drainPgBacklog(ctx, 'append')];
  },
};

async function drainPgBacklog(ctx: BenchContext, mode: 'merge' | 'append'): Promise<BenchResult> {
  const { changes } = ctx.sizes;
  const table = `backlog_${mode}`;
  const name = `bench_pg_backlog_${mode}`;
  const pgc = await pgBenchConnect();
  try {
    await createItems(pgc, table);
    const run = await drainBacklog({
      ctx,
      config: { name, source: pgSource([table]), mode },
      changes,
      async write(pipeline) {
        const floorSlot = await createFloorSlot(pgc);
        await writeBacklog(pgc, table, changes);
        const publication = pipeline.spec.source.kind === 'postgres' ? pipeline.spec.source.publication : '';
        return () => pgDecodeFloor(pgc, floorSlot.slot, publication).finally(() => floorSlot.drop());
      },
    });
    return makeResult('pg-backlog', mode, changes, run, PG_DECODE_FLOOR, run.floor);
  } finally {
    await dropPgBenchReplication(pgc, `ducktail_${name}`);
    await dropItems(pgc, table);
    await pgc.end();
  }
}
