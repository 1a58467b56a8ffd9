import type { Scenario } from '../context.js';
import { drainBacklog } from '../drivers.js';
import { pgDecodeFloor } from '../floors.js';
import { createFloorSlot, createItems, dropItems, dropPgBenchReplication, pgBenchConnect, pgSource, writeOneTransaction } from '../pg-workload.js';
import { makeResult } from '../result.js';
import { PG_DECODE_FLOOR } from './pg-backlog.js';

export const pgBigTxn: Scenario = {
  name: 'pg-big-txn',
  summary: "one PostgreSQL transaction inserting many rows, drained by a fresh worker (MERGE): its peak RSS shows memory is bounded by batch bytes, not by the transaction's size; floor: pgoutput decode",
  async run(ctx) {
    const rows = ctx.sizes.bigTxn;
    const table = 'big_txn';
    const name = 'bench_pg_big_txn';
    const pgc = await pgBenchConnect();
    try {
      await createItems(pgc, table);
      const run = await drainBacklog({
        ctx,
        config: { name, source: pgSource([table]), mode: 'merge' },
        changes: rows,
        async write(pipeline) {
          const floorSlot = await createFloorSlot(pgc);
          await writeOneTransaction(pgc, table, rows);
          const publication = pipeline.spec.source.kind === 'postgres' ? pipeline.spec.source.publication : '';
          return () => pgDecodeFloor(pgc, floorSlot.slot, publication).finally(() => floorSlot.drop());
        },
      });
      return [makeResult('pg-big-txn', 'merge', rows, run, PG_DECODE_FLOOR, run.floor)];
    } finally {
      await dropPgBenchReplication(pgc, `ducktail_${name}`);
      await dropItems(pgc, table);
      await pgc.end();
    }
  },
};
